"""`cchc notifications send [--json] [--limit N]`: the worker's sweep of the outbox.

Run every minute by the worker (schedule entry `notifications-send`). Only parses options
and calls `cchc.notifications.delivery.send_due`. With `--json` the last stdout line is the
counts {sent, retried, dead, reclaimed} that the job run records.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.errors import DomainError
from cchc.notifications import delivery


class Command(BaseCommand):
    help = (
        "Thông báo: gửi thư điện tử/SMS đang chờ, gửi lại thư lỗi đến hạn thử lại, lấy lại thư "
        "bị treo ở trạng thái đang gửi (send)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        send = sub.add_parser(
            "send", help="deliver every due e-mail/SMS and take back expired claims"
        )
        send.add_argument("--json", action="store_true", help="print the counts as JSON")
        send.add_argument(
            "--limit", type=int, default=500, help="at most this many messages in one run"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            counts = delivery.send_due(limit=max(opts["limit"], 1))
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if opts["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            return
        self.stdout.write(
            f"Đã gửi {counts['sent']} · chờ gửi lại {counts['retried']} · "
            f"gửi không được {counts['dead']} · lấy lại {counts['reclaimed']} thư bị treo."
        )
