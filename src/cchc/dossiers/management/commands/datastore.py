"""`cchc datastore status|deliver|retry [--dossier CODE] [--json]`: signed e-results delivered
to the holder's data store (`cchc.dossiers.datastore_delivery`).

- `status`: the store in use (`CCHC_DATASTORE`), deliveries by state, the failed ones with
  their error, the next retry, how many dossiers have their result in the store.
- `deliver`: queue the signed results in force that have no delivery yet, take back
  deliveries left "sending" by a dead worker, then deliver every due one (the worker's sweep,
  schedule entry `datastore-deliver`, every minute). With `--dossier CODE`, that dossier only,
  and the exit code tells how it ended: 0 delivered or nothing to deliver, 1 a delivery failed
  (refused, or attempts spent), 6 the store could not be reached (a retry is scheduled).
- `retry`: failed deliveries back to waiting (same key, attempts reset), then delivered.

Exit codes: 0 success; 1 failed delivery (`deliver --dossier`); 2 invalid input or delivery
switched off (`--dossier` with `CCHC_DATASTORE=off`); 4 unknown dossier; 6 store unreachable.
With `--json` the last stdout line is the counts.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.dossiers import datastore, datastore_delivery
from cchc.dossiers.models import DatastoreDelivery, DeliveryState
from cchc.errors import DomainError


class Command(BaseCommand):
    help = (
        "Gửi kết quả điện tử đã ký số vào kho dữ liệu của người nộp: thống kê (status), gửi các "
        "kết quả đến hạn (deliver), gửi lại các kết quả gửi không thành công (retry)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="deliveries by state")
        status.add_argument("--json", action="store_true", help="print the counts as JSON")
        for name, text in (
            ("deliver", "deliver every due result"),
            ("retry", "retry the failed deliveries"),
        ):
            cmd = sub.add_parser(name, help=text)
            cmd.add_argument("--dossier", default="", help="only this dossier (its code)")
            cmd.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["action"] == "status":
                self._status(opts)
            else:
                self._deliver(opts, retry=opts["action"] == "retry")
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _status(self, opts: dict[str, Any]) -> None:
        found = datastore_delivery.status()
        if opts["json"]:
            self.stdout.write(json.dumps(found, ensure_ascii=False))
            return
        self.stdout.write(
            f"Kho dữ liệu: {found['backend']} · đã gửi {found['sent']} · chờ gửi "
            f"{found['waiting']} · đang gửi {found['sending']} · không thành công "
            f"{found['failed']} · hồ sơ có kết quả trong kho {found['dossiers_in_datastore']}."
        )
        if found["next_retry_at"]:
            self.stdout.write(f"Lần gửi lại gần nhất: {found['next_retry_at']}.")
        for item in found["failed_deliveries"]:
            self.stdout.write(
                f"- hồ sơ {item['dossier']} (lần thử {item['attempts']}): {item['error']}"
            )

    def _deliver(self, opts: dict[str, Any], *, retry: bool) -> None:
        code = str(opts.get("dossier") or "").strip()
        dossier = datastore_delivery.find_dossier(code) if code else None
        if datastore.backend() == datastore.OFF:
            if dossier is not None:
                raise CommandError(
                    "Gửi kết quả vào kho dữ liệu đang tắt (CCHC_DATASTORE=off).", returncode=2
                )
            self._write(
                opts, {"backend": datastore.OFF, "queued": 0}, "Gửi vào kho dữ liệu đang tắt."
            )
            return
        resent = datastore_delivery.retry_failed(dossier=dossier) if retry else 0
        queued = datastore_delivery.queue_missing(dossier=dossier)
        counts: dict[str, Any] = {
            "backend": datastore.backend(),
            "queued": queued,
            **({"resent": resent} if retry else {}),
            **datastore_delivery.deliver_due(dossier=dossier),
        }
        self._write(
            opts,
            counts,
            f"Đã gửi {counts['sent']} · chờ gửi lại {counts['retry']} · không thành công "
            f"{counts['failed']} · mới xếp hàng {queued} · lấy lại {counts['reclaimed']}.",
        )
        if dossier is None:
            return
        states = set(
            DatastoreDelivery.objects.filter(dossier=dossier).values_list("state", flat=True)
        )
        if DeliveryState.FAILED in states:
            raise CommandError(
                f"Có kết quả của hồ sơ {dossier.code} gửi vào kho dữ liệu không thành công "
                "(xem: cchc datastore status).",
                returncode=1,
            )
        if DeliveryState.WAITING in states or DeliveryState.SENDING in states:
            raise CommandError(
                f"Chưa gửi được kết quả của hồ sơ {dossier.code} vào kho dữ liệu; sẽ gửi lại sau.",
                returncode=6,
            )

    def _write(self, opts: dict[str, Any], counts: dict[str, Any], text: str) -> None:
        if opts["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
        else:
            self.stdout.write(text)
