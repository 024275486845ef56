"""`cchc nationalsim seed|submit|show [--json]`: the national-portal simulator's data.

- `seed [--no-local] [--publish KY]`: rebuild the national catalogue from ours (with its
  deliberate differences) and optionally publish the 766 figures of period KY;
- `submit PROCEDURE APPLICANT [--phone …] [--email …] [--id-number …]`: a dossier
  "submitted on the national portal", waiting for `LayDanhSachHoSoMoi`;
- `show`: what the simulator holds (counts, calls, faults; personal data masked).

Refused unless CCHC_DVCQG_SIMULATOR is on."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from cchc import privacy
from cchc.errors import DomainError
from cchc.nationalsim import faults, seeding
from cchc.nationalsim.models import SimCall, SimDossier, SimInbound, SimProcedure, SimStep


def summary() -> dict[str, Any]:
    f = faults.current()
    return {
        "madonvi": seeding.madonvi(),
        "dossiers": SimDossier.objects.count(),
        "steps": SimStep.objects.count(),
        "out_of_order": SimStep.objects.filter(out_of_order=True).count(),
        "inbound": [
            {
                "MaHoSoQG": r.ma_ho_so_qg,
                "MaTTHC": r.ma_tthc,
                "ChuHoSo": privacy.mask_name(str(r.body.get("ChuHoSo") or "")),
                "acknowledged": r.acknowledged_at is not None,
                "MaHoSo": r.local_code,
            }
            for r in SimInbound.objects.order_by("id")
        ],
        "procedures": SimProcedure.objects.filter(withdrawn=False).count(),
        "withdrawn": SimProcedure.objects.filter(withdrawn=True).count(),
        "calls": {
            f"{c['service']}:{c['outcome']}": c["n"]
            for c in SimCall.objects.values("service", "outcome").annotate(n=Count("id"))
        },
        "faults": {name: getattr(f, name) for name in faults.FIELDS},
    }


class Command(BaseCommand):
    help = "Cổng DVCQG giả lập: tạo CSDL TTHC (seed), nộp hồ sơ trên Cổng (submit), xem (show)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser("seed", help="rebuild the national catalogue from ours")
        seed.add_argument("--no-local", action="store_true", help="do not read our catalogue")
        seed.add_argument("--publish", default="", help="also publish the 766 figures of KY")
        seed.add_argument("--json", action="store_true")
        submit = sub.add_parser("submit", help="a dossier submitted on the national portal")
        submit.add_argument("procedure")
        submit.add_argument("applicant")
        submit.add_argument("--id-number", default="")
        submit.add_argument("--phone", default="")
        submit.add_argument("--email", default="")
        submit.add_argument("--address", default="")
        submit.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="what the simulator holds")
        show.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not getattr(settings, "CCHC_DVCQG_SIMULATOR", False):
            raise CommandError("Trình giả lập Cổng DVCQG không bật (CCHC_DVCQG_SIMULATOR).")
        try:
            out = getattr(self, f"_{opts['action']}")(opts)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if opts["json"]:
            self.stdout.write(json.dumps(out, ensure_ascii=False, default=str))
        else:
            self.stdout.write(self._text(opts["action"], out))

    def _seed(self, opts: dict[str, Any]) -> dict[str, Any]:
        out = seeding.seed_catalogue(from_local=not opts["no_local"])
        if opts["publish"]:
            row = seeding.publish_766(seeding.madonvi(), opts["publish"])
            out["published"] = {"Ky": row.ky, **row.figures}
        return out

    def _submit(self, opts: dict[str, Any]) -> dict[str, Any]:
        row = seeding.submit_inbound(
            opts["procedure"],
            opts["applicant"],
            id_number=opts["id_number"],
            phone=opts["phone"],
            email=opts["email"],
            address=opts["address"],
        )
        return {"MaHoSoQG": row.ma_ho_so_qg, "MaTTHC": row.ma_tthc}

    def _show(self, opts: dict[str, Any]) -> dict[str, Any]:
        return summary()

    @staticmethod
    def _text(action: str, out: dict[str, Any]) -> str:
        if action == "seed":
            return (
                f"CSDL TTHC quốc gia giả lập: {out['count']} thủ tục · đổi phí {out['fee'] or '—'}"
                f" · đổi thời hạn {out['time'] or '—'} · mới {out['new']}"
                f" · bãi bỏ {out['withdrawn'] or '—'}."
            )
        if action == "submit":
            return f"Đã nộp hồ sơ {out['MaHoSoQG']} (thủ tục {out['MaTTHC']}) trên Cổng giả lập."
        waiting = sum(1 for i in out["inbound"] if not i["acknowledged"])
        return (
            f"Đơn vị {out['madonvi']}: {out['dossiers']} hồ sơ đồng bộ, {out['steps']} bước "
            f"({out['out_of_order']} sai thứ tự), {waiting}/{len(out['inbound'])} hồ sơ nộp "
            f"trên Cổng chờ lấy, {out['procedures']} thủ tục ({out['withdrawn']} bãi bỏ), "
            f"{sum(out['calls'].values())} lượt gọi."
        )
