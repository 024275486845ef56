"""The `cchc dvcqg` subcommands for what comes from the national portal:

- ``inbound fetch [--json]``: fetch the dossiers submitted on the portal, create ours,
  acknowledge (`cchc.national.inbound.fetch`; the job ``national-inbound``);
- ``inbound list [--state received|created|refused] [--json]``: what was received, with the
  reason of each refused one;
- ``inbound retry ID [--user NAME] [--json]``: try a refused one again (exit 3 if it is
  still refused);
- ``catalogue fetch [--json]``: compare the national database of procedures with ours, store
  the difference for review (`cchc.national.catalogue.fetch`; the job ``national-catalogue``);
- ``catalogue show [ID] [--json]``: a sync's difference (default: the latest);
- ``catalogue apply ID [--user NAME] [--json]`` / ``catalogue reject ID --note TEXT
  [--user NAME] [--json]``: the administrator's decision.

`register(subparsers)` is called by the `dvcqg` command; each leaf parser sets ``handler``,
a function ``(options: dict) -> int`` that prints its own output (to ``options["stdout"]``
when the command passes one, else standard output) and returns the exit code. Domain
errors propagate: the command turns them into their exit code (6: the portal could not be
reached or refused)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.utils import timezone

from cchc.accounts.models import User
from cchc.accounts.policy import SYSTEM
from cchc.errors import InvalidInput, NotFound
from cchc.national import catalogue, client, inbound
from cchc.national.models import CatalogSync, InboundState
from cchc.privacy import mask_name


def _out(options: dict[str, Any], text: str) -> None:
    stream = options.get("stdout") or sys.stdout
    if hasattr(stream, "ending"):  # Django's OutputWrapper adds the newline
        stream.write(text)
    else:
        stream.write(text + "\n")


def _json(options: dict[str, Any], value: Any) -> None:
    _out(options, json.dumps(value, ensure_ascii=False, default=str))


def _actor(options: dict[str, Any]) -> Any:
    name = options.get("user")
    if not name:
        return SYSTEM
    user = User.objects.filter(username=name, is_active=True).first()
    if user is None:
        raise NotFound(f"Không có người dùng '{name}'.")
    return user


# --- inbound ----------------------------------------------------------------------------------
def _not_connected(options: dict[str, Any]) -> bool:
    """No portal configured (a standalone installation): the periodic jobs do nothing and
    succeed, instead of failing every run."""
    if client.connected():
        return False
    if options.get("json"):
        _json(options, {"connected": False})
    else:
        _out(options, "Chưa kết nối Cổng DVCQG (CCHC_DVCQG_URL): không có gì để lấy.")
    return True


def inbound_fetch(options: dict[str, Any]) -> int:
    if _not_connected(options):
        return 0
    report = inbound.fetch(timezone.now())
    if options.get("json"):
        _json(options, report.as_dict())
    else:
        _out(
            options,
            f"Cổng DVCQG trả về {report.listed} hồ sơ ({report.stored} mới); đã tạo "
            f"{len(report.created)} hồ sơ, {len(report.refused)} không tạo được; đã xác nhận "
            f"{report.acknowledged} hồ sơ với Cổng.",
        )
        for item in report.refused:
            _out(options, f"  {item['MaHoSoQG']}: {item['reason']}")
        if report.ack_error:
            _out(options, f"Chưa xác nhận được với Cổng (sẽ thử lại): {report.ack_error}")
    return 0


def inbound_list(options: dict[str, Any]) -> int:
    state = options.get("state")
    rows = inbound.listing(state=state)
    items = [
        {
            "id": r.pk,
            "MaHoSoQG": r.national_code,
            "MaTTHC": str((r.payload or {}).get("MaTTHC", "")),
            # Personal data masked in outputs (cchc.privacy).
            "ChuHoSo": mask_name(str((r.payload or {}).get("ChuHoSo", ""))),
            "state": r.state,
            "dossier": r.dossier.code if r.dossier_id else "",
            "error": r.error,
            "fetched_at": r.fetched_at.isoformat(),
            "acknowledged_at": r.acknowledged_at.isoformat() if r.acknowledged_at else None,
        }
        for r in rows
    ]
    if options.get("json"):
        _json(options, items)
        return 0
    labels = dict(InboundState.choices)
    for i in items:
        line = f"#{i['id']} {i['MaHoSoQG']} ({i['MaTTHC']}) — {labels.get(i['state'], i['state'])}"
        if i["dossier"]:
            line += f" → {i['dossier']}" + ("" if i["acknowledged_at"] else " (chưa xác nhận)")
        if i["error"]:
            line += f": {i['error']}"
        _out(options, line)
    _out(options, f"{len(items)} hồ sơ nhận từ Cổng DVCQG.")
    return 0


def inbound_retry(options: dict[str, Any]) -> int:
    row = inbound.retry(_actor(options), options["id"], now=timezone.now())
    acknowledged, error = inbound.acknowledge(now=timezone.now())
    if options.get("json"):
        _json(
            options,
            {
                "id": row.pk,
                "MaHoSoQG": row.national_code,
                "state": row.state,
                "dossier": row.dossier.code if row.dossier_id else "",
                "error": row.error,
                "acknowledged": acknowledged,
                "ack_error": error,
            },
        )
    elif row.state == InboundState.CREATED:
        _out(options, f"Đã tạo hồ sơ {row.dossier.code} từ {row.national_code}.")
    else:
        _out(options, f"Vẫn không tạo được hồ sơ {row.national_code}: {row.error}")
    return 0 if row.state == InboundState.CREATED else 3


# --- catalogue --------------------------------------------------------------------------------
def _sync_dict(sync: CatalogSync) -> dict[str, Any]:
    return {
        "id": sync.pk,
        "state": sync.state,
        "fetched_at": sync.fetched_at.isoformat(),
        "summary": sync.summary,
        "reviewed_by": sync.reviewed_by.username if sync.reviewed_by_id else None,
        "reviewed_at": sync.reviewed_at.isoformat() if sync.reviewed_at else None,
        "note": sync.note,
        "diff": sync.diff,
    }


def _show_text(options: dict[str, Any], sync: CatalogSync) -> None:
    _out(options, f"Lần đồng bộ #{sync.pk} ({sync.get_state_display()}): {sync.summary}")
    for row in catalogue.rows(sync):
        head = f"{row['kind']} {row['code']} {row['name']}".strip()
        if head:
            _out(options, head)
        if row["field"]:
            _out(options, f"    {row['field']}: {row['old']} → {row['new']}")
        elif row["new"]:
            _out(options, f"    {row['new']}")
        if row["outcome"]:
            _out(options, f"    Kết quả: {row['outcome']}")
    if sync.note:
        _out(options, f"Ghi chú: {sync.note}")


def catalogue_fetch(options: dict[str, Any]) -> int:
    if _not_connected(options):
        return 0
    sync = catalogue.fetch(timezone.now())
    if options.get("json"):
        _json(options, _sync_dict(sync))
    else:
        _show_text(options, sync)
    return 0


def _find(sync_id: int | None) -> CatalogSync:
    qs = CatalogSync.objects.select_related("reviewed_by")
    sync = qs.filter(pk=sync_id).first() if sync_id else qs.first()
    if sync is None:
        raise NotFound(
            f"Không có lần đồng bộ danh mục số {sync_id}."
            if sync_id
            else "Chưa có lần đồng bộ danh mục nào."
        )
    return sync


def catalogue_show(options: dict[str, Any]) -> int:
    sync = _find(options.get("id"))
    if options.get("json"):
        _json(options, _sync_dict(sync))
    else:
        _show_text(options, sync)
    return 0


def catalogue_apply(options: dict[str, Any]) -> int:
    sync = catalogue.apply(_actor(options), _find(options["id"]).pk, timezone.now())
    if options.get("json"):
        _json(options, _sync_dict(sync))
    else:
        _show_text(options, sync)
    return 0


def catalogue_reject(options: dict[str, Any]) -> int:
    note = options.get("note") or ""
    if not note.strip():
        raise InvalidInput("Ghi rõ lý do từ chối (--note).")
    sync = catalogue.reject(_actor(options), _find(options["id"]).pk, note, now=timezone.now())
    if options.get("json"):
        _json(options, _sync_dict(sync))
    else:
        _out(options, f"Đã từ chối lần đồng bộ #{sync.pk}.")
    return 0


def register(subparsers: Any) -> None:
    """Add ``inbound`` and ``catalogue`` to the `dvcqg` command's subparsers."""
    group = subparsers.add_parser("inbound", help="dossiers submitted on the national portal")
    sub = group.add_subparsers(dest="inbound_action", required=True)
    fetch = sub.add_parser("fetch", help="fetch, create our dossiers, acknowledge")
    fetch.add_argument("--json", action="store_true", help="print JSON")
    fetch.set_defaults(handler=inbound_fetch)
    listing = sub.add_parser("list", help="what was received (refused ones with the reason)")
    listing.add_argument("--state", choices=InboundState.values)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=inbound_list)
    again = sub.add_parser("retry", help="try a refused one again (after fixing the catalogue)")
    again.add_argument("id", type=int)
    again.add_argument("--user", help="administrator doing it (default: the system)")
    again.add_argument("--json", action="store_true", help="print JSON")
    again.set_defaults(handler=inbound_retry)

    group = subparsers.add_parser("catalogue", help="the national database of procedures")
    sub = group.add_subparsers(dest="catalogue_action", required=True)
    fetch = sub.add_parser("fetch", help="fetch and store the difference for review")
    fetch.add_argument("--json", action="store_true", help="print JSON")
    fetch.set_defaults(handler=catalogue_fetch)
    show = sub.add_parser("show", help="a sync's difference (default: the latest)")
    show.add_argument("id", nargs="?", type=int)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=catalogue_show)
    apply = sub.add_parser("apply", help="apply a pending sync (new procedure versions)")
    apply.add_argument("id", type=int)
    apply.add_argument("--user", help="administrator applying it (default: the system)")
    apply.add_argument("--json", action="store_true", help="print JSON")
    apply.set_defaults(handler=catalogue_apply)
    reject = sub.add_parser("reject", help="reject a pending sync")
    reject.add_argument("id", type=int)
    reject.add_argument("--note", required=True, help="why")
    reject.add_argument("--user", help="administrator rejecting it (default: the system)")
    reject.add_argument("--json", action="store_true", help="print JSON")
    reject.set_defaults(handler=catalogue_reject)
