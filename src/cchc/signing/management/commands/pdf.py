"""`cchc pdf verify FILE [--json] [--roots PEM…]` and `cchc pdf sign FILE --profile P -o OUT`.

Exit codes of verify: 0 every signature valid and trusted, 1 invalid, untrusted or unsigned,
2 unreadable input. Sign: 0 signed, 75 signing unavailable now (retry), 1 other failures,
2 unreadable input. Only parses options and calls `cchc.signing`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.errors import DomainError
from cchc.signing.certs import load_certificate_files
from cchc.signing.sign import sign_pdf
from cchc.signing.verify import Report, verify_pdf

MAX_BYTES = 200 * 1024 * 1024
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def _read(path: str) -> bytes:
    try:
        file = Path(path)
        if file.stat().st_size > MAX_BYTES:
            raise CommandError(f"{path}: tệp lớn hơn 200 MB.", returncode=2)
        return file.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: không đọc được tệp ({exc.strerror}).", returncode=2) from None


class Command(BaseCommand):
    help = "Ký số và kiểm tra chữ ký số trên tệp PDF (PAdES)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="kiểm tra các chữ ký số trong tệp PDF")
        verify.add_argument("file")
        verify.add_argument("--json", action="store_true", help="in báo cáo dạng JSON")
        verify.add_argument(
            "--roots",
            nargs="+",
            metavar="PEM",
            help="tệp chứng thư gốc tin cậy (PEM/DER) thay cho CCHC_SIGNING_TRUST_ROOTS",
        )
        sign = sub.add_parser("sign", help="ký số tệp PDF bằng một hồ sơ ký đã cấu hình")
        sign.add_argument("file")
        sign.add_argument("--profile", required=True, help="hồ sơ ký, ví dụ desk")
        sign.add_argument("-o", "--output", required=True, help="tệp PDF đã ký")
        sign.add_argument("--purpose", default="", help="tên mục đích của trường chữ ký")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "sign":
            self._sign(opts)
        else:
            self._verify(opts)

    def _sign(self, opts: dict[str, Any]) -> None:
        pdf = _read(opts["file"])
        try:
            signed = sign_pdf(pdf, profile=opts["profile"], purpose=opts["purpose"])
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        try:
            Path(opts["output"]).write_bytes(signed)
        except OSError as exc:
            raise CommandError(
                f"{opts['output']}: không ghi được tệp ({exc.strerror}).", returncode=1
            ) from None
        self.stdout.write(f"Đã ký {opts['file']} → {opts['output']} (hồ sơ ký {opts['profile']}).")

    def _verify(self, opts: dict[str, Any]) -> None:
        pdf = _read(opts["file"])
        try:
            roots = load_certificate_files(opts["roots"]) if opts.get("roots") else None
            report = verify_pdf(pdf, roots=roots)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._print(opts["file"], report)
        if not report.ok:
            self.stdout.flush()
            sys.exit(1)

    def _print(self, name: str, report: Report) -> None:
        self.stdout.write(f"{name}: {report.verdict_text.upper()}")
        for n, sig in enumerate(report.signatures, 1):
            when = (
                sig.signing_time.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S (giờ Việt Nam)")
                if sig.signing_time
                else "không rõ"
            )
            source = {"timestamp": "theo dấu thời gian", "claimed": "do người ký khai"}.get(
                sig.time_source, ""
            )
            self.stdout.write(
                f"  Chữ ký {n} ({sig.field}): {sig.verdict_text}\n"
                f"    Người ký: {sig.signer_name}"
                + (f" — {sig.signer_org}" if sig.signer_org else "")
                + f" (số hiệu chứng thư {sig.serial}, cấp bởi {sig.issuer})\n"
                f"    Thời điểm ký: {when} {source}".rstrip()
                + "\n"
                f"    Toàn vẹn: {'còn nguyên' if sig.intact else 'đã bị sửa'}; "
                f"phạm vi: {'toàn bộ tài liệu' if sig.covers_whole_document else 'không trọn'}; "
                f"hiệu lực khi ký: {'có' if sig.valid_at_signing_time else 'không'}; "
                f"tin cậy: {'có' if sig.trusted else 'không'}"
            )
            for problem in sig.problems:
                self.stdout.write(f"    - {problem}")
        if report.document_timestamps:
            self.stdout.write(f"  Dấu thời gian tài liệu (LTA): {report.document_timestamps}")
