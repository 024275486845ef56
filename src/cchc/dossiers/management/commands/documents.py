"""`cchc documents sign [--json] [--limit N] [--retry-stopped]` and `cchc documents status
[--json]`: the digital signing of issued documents (forms, fee receipts, results).

`sign` is the worker's sweep (schedule entry `documents-sign`, every minute): it takes back
documents stuck "waiting" and signs every document that is unsigned, or failed and due
(`cchc.dossiers.signing_jobs.sign_due`). `--retry-stopped` also retries the ones that stopped
(a configuration error, or attempts spent) — after the administrator fixed the cause.
`status` counts documents in force by signing state and says why some cannot be signed.
With `--json` the last stdout line is the counts.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.dossiers import signing_jobs
from cchc.errors import DomainError


class Command(BaseCommand):
    help = (
        "Ký số văn bản đã phát hành: ký các văn bản đang chờ, ký lại văn bản lỗi đến hạn thử "
        "lại (sign); thống kê trạng thái ký số (status)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sign = sub.add_parser("sign", help="sign every due issued document")
        sign.add_argument("--json", action="store_true", help="print the counts as JSON")
        sign.add_argument(
            "--limit", type=int, default=100, help="at most this many documents in one run"
        )
        sign.add_argument(
            "--retry-stopped",
            action="store_true",
            help="also retry documents whose signing stopped (after fixing the cause)",
        )
        status = sub.add_parser("status", help="count issued documents by signing state")
        status.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["action"] == "sign":
                self._sign(opts)
            else:
                self._status(opts)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _sign(self, opts: dict[str, Any]) -> None:
        counts = signing_jobs.sign_due(
            limit=max(opts["limit"], 1), stopped=bool(opts["retry_stopped"])
        )
        if opts["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            return
        self.stdout.write(
            f"Đã ký {counts['signed']} · chờ thử lại {counts['retry']} · "
            f"dừng thử lại {counts['stopped']} · bỏ qua {counts['skipped']} · "
            f"lấy lại {counts['reclaimed']} văn bản bị treo."
        )

    def _status(self, opts: dict[str, Any]) -> None:
        found = signing_jobs.status()
        if opts["json"]:
            self.stdout.write(json.dumps(found, ensure_ascii=False))
            return
        self.stdout.write(
            f"Đã ký số {found['signed']} · đang ký {found['waiting']} · chờ ký {found['queued']} · "
            f"lỗi, chờ thử lại {found['retrying']} · lỗi, đã dừng {found['stopped']} · "
            f"không ký được {found['unsignable']}."
        )
        if found["next_retry_at"]:
            self.stdout.write(f"Lần thử lại gần nhất: {found['next_retry_at']}.")
        for reason, count in sorted(found["reasons"].items()):
            self.stdout.write(f"- {count} văn bản chưa ký: {reason}")
        for item in found["stopped_documents"]:
            self.stdout.write(
                f"- văn bản #{item['document']} dừng sau {item['attempts']} lần: {item['error']}"
            )
