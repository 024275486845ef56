"""`cchc demo`: load the demo data set (idempotent); with `--dossiers N --year Y`, also
generate a province-year of demo dossiers at scale and verify a sample of them."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc.demo import scale
from cchc.demo.loader import DEMO_PASSWORD, database_is_empty, load_demo
from cchc.demo.scale import LEVEL_NAMES, LEVELS
from cchc.errors import DomainError
from cchc.indicators import aggregates


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %".replace(".", ",") if whole else "—"


def _int(value: int) -> str:
    return f"{value:,}".replace(",", ".")


class Command(BaseCommand):
    help = (
        "Nạp dữ liệu mẫu (Bắc Giang 2024, Bắc Ninh từ 1/7/2025, danh mục thủ tục, tài khoản); "
        "với --dossiers N --year 2024: sinh hồ sơ mẫu của cả tỉnh trong một năm."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="only when the database has no data yet"
        )
        parser.add_argument(
            "--password",
            help="password of the demo accounts (default: the documented demo password, "
            "which is refused when DEBUG is off)",
        )
        parser.add_argument(
            "--dossiers", type=int, help="generate N demo dossiers for --year (province-wide)"
        )
        parser.add_argument("--year", type=int, default=2024, help="year to generate (2024)")
        parser.add_argument("--seed", type=int, default=2024, help="random seed (deterministic)")
        parser.add_argument(
            "--verify-sample",
            type=int,
            default=1000,
            help="dossiers checked against their events after generating (0: none)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        at_scale = opts["dossiers"] is not None
        empty = database_is_empty()
        if opts["if_empty"] and not empty and not at_scale:
            self.stdout.write("Cơ sở dữ liệu đã có dữ liệu: bỏ qua dữ liệu mẫu.")
            return
        if at_scale:  # a year without calibration is refused before anything is loaded
            try:
                scale.load_calibration(scale.calibration_path(opts["year"]))
            except DomainError as exc:
                raise CommandError(exc.message, returncode=exc.exit_code) from None
        if not at_scale or empty:
            self._base(opts)
        if at_scale:
            self._scale(opts)

    def _base(self, opts: dict[str, Any]) -> None:
        password = opts["password"] or DEMO_PASSWORD
        if not settings.DEBUG and password == DEMO_PASSWORD:
            raise CommandError(
                "DEBUG đang tắt: hãy đặt mật khẩu riêng cho tài khoản mẫu bằng --password.",
                returncode=2,
            )
        try:
            summary = load_demo(now=timezone.now(), password=password)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        for title, report in (
            ("Cơ cấu tổ chức", summary.org),
            ("Thủ tục hành chính", summary.procedures),
            ("Thủ tục nội bộ", summary.internal),
        ):
            self.stdout.write(
                f"{title}: thêm {report.created}, cập nhật {report.updated}, "
                f"không đổi {report.unchanged}, lỗi {len(report.rejected)}"
            )
            for error in report.rejected:
                self.stderr.write(f"  {error}")
        self.stdout.write(f"Hồ sơ mẫu: thêm {summary.dossiers}")
        self.stdout.write(f"Phản ánh, kiến nghị mẫu: thêm {summary.feedback}")
        self.stdout.write(
            f"Tài khoản mẫu: {', '.join(summary.users)} (mật khẩu: xem README, mục Dữ liệu mẫu)"
        )

    def _scale(self, opts: dict[str, Any]) -> None:

        n, year, seed = opts["dossiers"], opts["year"], opts["seed"]
        self.stdout.write(f"Sinh {_int(n)} hồ sơ mẫu năm {year} (seed {seed}) …")
        began = time.perf_counter()
        last = [began]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] >= 10 or done == total:
                last[0] = time.perf_counter()
                self.stdout.write(
                    f"  … {_int(done)}/{_int(total)} hồ sơ ({time.perf_counter() - began:.0f} s)"
                )
                self.stdout.flush()

        try:
            result = scale.generate_year(
                n, year=year, seed=seed, now=timezone.now(), progress=progress
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        rate = result.dossiers / result.seconds if result.seconds else 0.0
        self.stdout.write(
            f"Đã sinh {_int(result.dossiers)} hồ sơ ({_int(result.rows)} dòng dữ liệu) trong "
            f"{result.seconds:.1f} s — {_int(round(rate))} hồ sơ/giây (ghi hồ sơ "
            f"{result.generate_seconds:.1f} s; còn lại: tính lại các ô chỉ số, phản ánh mẫu). "
            f"Phản ánh, kiến nghị gắn hồ sơ: {result.complaints}."
        )
        summary = scale.summarise(result.first_id, result.last_id)
        self._print_summary(summary)

        sample = opts["verify_sample"]
        failed = False
        if sample > 0:
            checked = time.perf_counter()
            report = scale.verify_sample(result.first_id, result.last_id, size=sample, seed=seed)
            self.stdout.write(
                f"Kiểm tra {_int(report.checked)} hồ sơ ngẫu nhiên với nhật ký sự kiện "
                f"(cchc dossiers verify): "
                + ("khớp." if report.clean else f"{len(report.mismatches)} sai lệch.")
                + f" ({time.perf_counter() - checked:.1f} s)"
            )
            for mismatch in report.mismatches[:20]:
                self.stderr.write(f"  {mismatch}")
            for code, message in report.errors[:20]:
                self.stderr.write(f"  {code}: {message}")
            failed |= not report.clean
        checked = time.perf_counter()
        cells = aggregates.verify()
        self.stdout.write(
            f"Kiểm tra {_int(cells.cells)} ô chỉ số (cchc indicators verify): "
            + ("khớp." if cells.clean else f"{len(cells.differences)} ô sai lệch.")
            + f" ({time.perf_counter() - checked:.1f} s)"
        )
        for difference in cells.differences[:20]:
            self.stderr.write(f"  {difference}")
        for line in cells.progress[:20]:
            self.stderr.write(f"  {line}")
        failed |= not cells.clean
        if failed:
            raise CommandError("Dữ liệu sinh ra không khớp khi kiểm tra lại.", returncode=1)

    def _print_summary(self, s: Any) -> None:

        total = s.total
        self.stdout.write("Theo cấp: " + ", ".join(
            f"{LEVEL_NAMES[x]} {_int(s.levels.get(x, 0))} ({_pct(s.levels.get(x, 0), total)})"
            for x in LEVELS
        ))  # fmt: skip
        states = sorted(s.states.items(), key=lambda kv: -kv[1])
        self.stdout.write("Theo trạng thái: " + ", ".join(f"{k} {_int(v)}" for k, v in states))
        finished = sum(s.outcomes.values())
        early, on_time, overdue = (s.outcomes.get(k, 0) for k in ("early", "on_time", "overdue"))
        self.stdout.write(
            f"Đã giải quyết {_int(finished)}: trước hạn {_pct(early, finished)}, đúng hạn "
            f"{_pct(on_time, finished)}, quá hạn {_pct(overdue, finished)} (trước và đúng hạn "
            f"{_pct(early + on_time, finished)})"
        )
        for level in LEVELS:
            per = s.outcomes_by_level.get(level, {})
            done = sum(per.values())
            self.stdout.write(
                f"  {LEVEL_NAMES[level]}: trước hạn {_pct(per.get('early', 0), done)}, "
                f"đúng hạn {_pct(per.get('on_time', 0), done)}, quá hạn "
                f"{_pct(per.get('overdue', 0), done)}"
            )
        online, offered = s.online_offered
        self.stdout.write(
            f"Kênh nộp: trực tiếp {_pct(s.channels.get(1, 0), total)}, trực tuyến "
            f"{_pct(s.channels.get(2, 0), total)}, bưu chính {_pct(s.channels.get(3, 0), total)}; "
            f"trực tuyến trong các thủ tục có dịch vụ công trực tuyến {_pct(online, offered)}"
        )
        fee, paid, paid_online = s.paid
        self.stdout.write(
            f"Hồ sơ có phí, lệ phí {_int(fee)}: đã thanh toán {_pct(paid, fee)}, thanh toán "
            f"trực tuyến {_pct(paid_online, fee)}; số hóa {_pct(s.digitised, total)}"
        )
        self.stdout.write(
            "Tiếp nhận theo tháng: "
            + ", ".join(f"T{m} {_int(s.months.get(m, 0))}" for m in range(1, 13))
        )
