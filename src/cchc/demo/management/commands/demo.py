"""`cchc demo`: load the demo data set (idempotent)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc.demo.loader import DEMO_PASSWORD, database_is_empty, load_demo
from cchc.errors import DomainError


class Command(BaseCommand):
    help = "Nạp dữ liệu mẫu (Bắc Giang 2024, Bắc Ninh từ 1/7/2025, danh mục thủ tục, tài khoản)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="only when the database has no data yet"
        )
        parser.add_argument(
            "--password",
            help="password of the demo accounts (default: the documented demo password, "
            "which is refused when DEBUG is off)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["if_empty"] and not database_is_empty():
            self.stdout.write("Cơ sở dữ liệu đã có dữ liệu: bỏ qua dữ liệu mẫu.")
            return
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
