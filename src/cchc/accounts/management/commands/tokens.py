"""`cchc tokens create USERNAME --name NAME [--expires DAYS]` / `cchc tokens list` /
`cchc tokens revoke ID`: API tokens for integrations, through `cchc.accounts.tokens`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from cchc import legaltime
from cchc.accounts import tokens
from cchc.accounts.management.base import ActionCommand
from cchc.accounts.policy import SYSTEM


def _local(instant: dt.datetime | None, empty: str = "—") -> str:
    return instant.astimezone(legaltime.VN_TZ).strftime("%Y-%m-%d %H:%M") if instant else empty


class Command(ActionCommand):
    help = "Quản lý mã truy cập API (Authorization: Bearer) cho các hệ thống tích hợp."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token; it is printed once")
        create.add_argument("username", help="the user the token acts as")
        create.add_argument("--name", required=True, help="what the token is for")
        create.add_argument("--expires", type=int, metavar="DAYS", help="valid for DAYS days")
        listing = sub.add_parser("list", help="tokens with their state (never the secret)")
        listing.add_argument("--user", help="only this user's tokens")
        revoke = sub.add_parser("revoke", help="revoke a token by its id")
        revoke.add_argument("id", type=int)

    def _create(self, opts: dict[str, Any]) -> None:
        days = opts["expires"]
        if days is not None and days < 1:
            raise CommandError("--expires phải từ 1 ngày trở lên.", returncode=2)
        issued = tokens.create_token(
            SYSTEM,
            self._user(opts["username"]),
            name=opts["name"],
            now=timezone.now(),
            expires_in=dt.timedelta(days=days) if days else None,
        )
        token = issued.token
        self.stdout.write(issued.key)
        self.stderr.write(
            f"Đã tạo mã truy cập #{token.pk} «{token.name}» cho {token.user.username}, "
            f"hết hạn: {_local(token.expires_at, 'không')}. Mã chỉ hiển thị một lần; "
            "hãy lưu lại ngay."
        )

    def _list(self, opts: dict[str, Any]) -> None:
        user = self._user(opts["user"]) if opts["user"] else None
        now = timezone.now()
        rows = tokens.tokens_visible_to(SYSTEM, user=user)
        for t in rows:
            if t.revoked_at:
                state = f"thu hồi {_local(t.revoked_at)}"
            elif t.expires_at and t.expires_at <= now:
                state = f"hết hạn {_local(t.expires_at)}"
            else:
                state = f"hiệu lực đến {_local(t.expires_at, 'không hạn')}"
            self.stdout.write(
                f"{t.pk}\t{t.user.username}\t{t.name}\tcchc_{t.prefix}_…\t"
                f"tạo {_local(t.created_at)}\tdùng {_local(t.last_used_at)}\t{state}"
            )
        if not rows:
            self.stderr.write("Chưa có mã truy cập nào.")

    def _revoke(self, opts: dict[str, Any]) -> None:
        token = tokens.revoke_token(
            SYSTEM, tokens.get_token(SYSTEM, opts["id"]), now=timezone.now()
        )
        self.stdout.write(f"Đã thu hồi mã truy cập #{token.pk} «{token.name}».")
