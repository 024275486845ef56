"""`cchc dvcqg …`: the sync with the national portal (Cổng DVCQG) from the command line.

- ``status [--json]``: records by state, the age of the oldest one waiting, blocked dossiers;
- ``send [--json] [--limit N]``: deliver what is due now (the worker runs it every minute,
  schedule entry `dvcqg-send`);
- ``reconcile [--since DATE] [--json]``: compare the portal's view (`TraCuuHoSo`) of the
  dossiers changed since DATE (default: the last day) with ours, re-queue those that differ;
- ``dead [--json]``: the dead letters;
- ``resend ID [ID …]``: send dead letters again (same key, same body), audited.

The helper module `cchc.national.cli_inbound`, when present, adds its own subcommands
(`inbound`, `catalogue`, `published`) through ``register(subparsers)``: each of its parsers
sets ``handler`` (``set_defaults(handler=fn)``), a function ``fn(options: dict) -> int`` that
prints its own output (to ``options["stdout"]``, the command's output) and returns the exit
code; a `DomainError` it raises becomes its exit code.

Exit codes: 0 done, 2 bad input, 6 the portal could not be reached or refused (NationalError).
Only parses options and calls the services in `cchc.national`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
from importlib.util import find_spec
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.errors import DomainError
from cchc.national import client, delivery, reconcile
from cchc.national.protocol import VN

EXTENSION = "cchc.national.cli_inbound"


def parse_since(text: str) -> dt.datetime:
    """A date (start of that day, Vietnam time) or an instant."""
    text = text.strip()
    if len(text) == 10:
        try:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time.min, tzinfo=VN)
        except ValueError:
            pass
    return legaltime.parse_instant(text)


class Command(BaseCommand):
    help = (
        "Đồng bộ với Cổng Dịch vụ công quốc gia: tình trạng hàng đợi (status), gửi ngay (send), "
        "đối soát (reconcile), bản ghi không gửi được (dead), gửi lại (resend)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="counts by state, oldest waiting, blocked dossiers")
        status.add_argument("--json", action="store_true", help="print JSON")
        send = sub.add_parser("send", help="deliver every due record now")
        send.add_argument("--json", action="store_true", help="print the counts as JSON")
        send.add_argument("--limit", type=int, default=500, help="at most this many dossiers")
        rec = sub.add_parser("reconcile", help="compare with the portal (TraCuuHoSo), re-queue")
        rec.add_argument("--since", help="dossiers changed since (YYYY-MM-DD or an instant)")
        rec.add_argument("--json", action="store_true", help="print JSON")
        dead = sub.add_parser("dead", help="list the dead letters")
        dead.add_argument("--json", action="store_true", help="print JSON")
        resend = sub.add_parser("resend", help="send dead letters again (by record id)")
        resend.add_argument("ids", nargs="+", type=int, metavar="ID")
        resend.add_argument("--json", action="store_true", help="print JSON")
        if find_spec(EXTENSION) is not None:
            importlib.import_module(EXTENSION).register(sub)

    def handle(self, *args: Any, **opts: Any) -> None:
        handler = opts.get("handler")
        try:
            if handler is not None:
                code = int(handler({**opts, "stdout": self.stdout}) or 0)
                if code:
                    self.stdout.flush()
                    sys.exit(code)
                return
            out = getattr(self, f"_{opts['action']}")(opts)
        except legaltime.LegalTimeError as exc:
            raise CommandError(exc.message, returncode=2) from None
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if out is not None:
            self.stdout.write(out)

    def _status(self, opts: dict[str, Any]) -> str:
        report = reconcile.status()
        if opts["json"]:
            return json.dumps(report, ensure_ascii=False)
        lines = [
            ("Đã kết nối Cổng DVCQG." if report["connected"] else "Chưa kết nối Cổng DVCQG."),
            f"Chờ gửi {report['pending']} · đang gửi {report['sending']} · chờ gửi lại "
            f"{report['retry']} · đã đồng bộ {report['sent']} · không gửi được {report['dead']} "
            f"(đã bỏ qua {report['discarded']}).",
            f"Bản ghi chờ lâu nhất: {report['oldest_pending_seconds']} giây.",
        ]
        for b in report["blocked"]:
            lines.append(
                f"Hồ sơ {b['dossier']} bị chặn bởi bản ghi {b['record']} ({b['error']}); "
                f"{b['waiting']} bản ghi đang chờ sau nó."
            )
        return "\n".join(lines)

    def _send(self, opts: dict[str, Any]) -> str:
        counts = delivery.send_due(limit=max(opts["limit"], 1))
        if opts["json"]:
            return json.dumps(counts, ensure_ascii=False)
        return (
            f"Đã đồng bộ {counts['sent']} · chờ gửi lại {counts['retried']} · không gửi được "
            f"{counts['dead']} · lấy lại {counts['reclaimed']} bản ghi bị treo."
        )

    def _reconcile(self, opts: dict[str, Any]) -> str:
        since = parse_since(opts["since"]) if opts.get("since") else None
        if not client.connected():  # a standalone installation: the daily job succeeds
            if opts["json"]:
                return json.dumps({"connected": False, "checked": 0, "differences": []})
            return "Chưa kết nối Cổng DVCQG (CCHC_DVCQG_URL): không có gì để đối soát."
        report = reconcile.reconcile(since or reconcile.changed_since_default())
        if opts["json"]:
            return json.dumps(report, ensure_ascii=False)
        lines = [
            f"{d['dossier']}: trạng thái của ta {d['ours_status'] or '—'}, trên Cổng "
            f"{d['portal_status'] or 'không có'}; số bước của ta {d['ours_steps']}, trên Cổng "
            f"{d['portal_steps'] if d['portal_steps'] is not None else '—'} → gửi lại "
            f"({d['queued']})."
            for d in report["differences"]
        ]
        lines.append(
            f"Đã đối soát {report['checked']} hồ sơ; {len(report['differences'])} hồ sơ khác "
            "Cổng quốc gia được đưa vào hàng đợi gửi lại."
        )
        return "\n".join(lines)

    def _dead(self, opts: dict[str, Any]) -> str:
        rows = reconcile.dead_letters()
        if opts["json"]:
            return json.dumps(rows, ensure_ascii=False)
        lines = [
            f"#{r['id']} {r['dossier']} {r['service']} — {r['attempts']} lần thử — {r['error']}"
            + (" (đã bỏ qua)" if r["discarded"] else "")
            for r in rows
        ]
        lines.append(f"{len(rows)} bản ghi không gửi được.")
        return "\n".join(lines)

    def _resend(self, opts: dict[str, Any]) -> str:
        count = delivery.resend(SYSTEM, list(opts["ids"]))
        if opts["json"]:
            return json.dumps({"resent": count}, ensure_ascii=False)
        if not count:
            raise CommandError(
                "Không có bản ghi nào được gửi lại: chỉ gửi lại bản ghi không gửi được hoặc "
                "đang chờ gửi lại.",
                returncode=2,
            )
        return f"Đã đưa {count} bản ghi vào hàng đợi gửi lại."
