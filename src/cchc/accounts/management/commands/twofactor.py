"""`cchc twofactor status USERNAME` / `cchc twofactor reset USERNAME [--by ADMIN]
[--reason TEXT]`: two-factor sign-in of a user, through `cchc.accounts.twofactor`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from cchc import legaltime
from cchc.accounts import twofactor
from cchc.accounts.management.base import ActionCommand
from cchc.accounts.policy import SYSTEM


class Command(ActionCommand):
    help = "Xác thực hai lớp của người dùng: xem trạng thái, đặt lại khi mất điện thoại."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="is two-factor sign-in on, required, codes left")
        status.add_argument("username")
        reset = sub.add_parser("reset", help="turn it off (lost phone and recovery codes); audited")
        reset.add_argument("username")
        reset.add_argument("--by", help="administrator doing the reset (default: the system)")
        reset.add_argument("--reason", default="", help="why, kept in the audit log")

    def _status(self, opts: dict[str, Any]) -> None:
        user = self._user(opts["username"])
        state = twofactor.status(user)
        since = (
            state.enrolled_at.astimezone(legaltime.VN_TZ).strftime("%Y-%m-%d %H:%M")
            if state.enrolled_at
            else ""
        )
        self.stdout.write(
            f"{user.username}\t{'bật từ ' + since if state.enrolled else 'chưa bật'}\t"
            f"{'bắt buộc' if state.required else 'không bắt buộc'}\t"
            f"mã khôi phục còn {state.recovery_left}"
        )

    def _reset(self, opts: dict[str, Any]) -> None:
        user = self._user(opts["username"])
        actor = self._user(opts["by"]) if opts["by"] else SYSTEM
        twofactor.reset(actor, user, now=timezone.now(), reason=opts["reason"])
        self.stdout.write(
            f"Đã đặt lại xác thực hai lớp của {user.username}: lần đăng nhập sau "
            + ("phải đăng ký lại." if twofactor.is_required(user) else "chỉ cần mật khẩu.")
        )
