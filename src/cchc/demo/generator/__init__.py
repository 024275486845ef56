"""Fast generation of many realistic dossiers (hồ sơ mẫu số lượng lớn) for the demo
province-year (`cchc.demo.scale`) and the benchmarks.

`generate` writes what the services would write for each dossier — the `Dossier` row, its
events (the same actions, actors, data payloads and order as `intake.receive_at_desk`,
`submit_online` and `act`; payloads from the builders of `cchc.dossiers.payloads`),
components, fees, results, receipts, the digitisation facts (`scans`: scanned components
with their stored files, reuses of earlier scans) and the code counter — but with raw bulk
inserts (`cchc.dossiers.rows.Writer`: PostgreSQL COPY, SQLite executemany in one
transaction) instead of one service call per event. The projection columns are computed with the
vectorised legal-time path (`cchc.legaltime.bulk_*`), so that
`services.project(dossier).stored()` reproduces them exactly; the few dossiers with an
apology (form 04) are projected by `replay.project` itself.

Not written: audit-log entries and citizen notifications (side records of the services,
not part of the dossier or its projection), uploaded files other than the few shared demo
scan PDFs. The generator assumes it is the only writer while it runs (it allocates ids and
code numbers itself).

Modules: `lifecycles` (shapes of a dossier's life), `inputs` (staff, calibration, result),
`procedures`, `plan` and `timelines` (everything decided before writing), `apologies`,
`codes` and `receipts` (numbers it allocates), `scans` (digitisation facts), `projection`,
`events` and `batch` (rows), `templates` (payload JSON), `generation` (`generate`).
"""

from cchc.demo.generator.generation import generate
from cchc.demo.generator.inputs import (
    DEFAULT_PROFILE,
    FAMILY,
    GIVEN,
    MIDDLE,
    Generated,
    Profile,
    Seasonality,
    Staff,
)
from cchc.demo.generator.lifecycles import FINISHED, LIFECYCLES, OPEN, Lifecycle

__all__ = [
    "DEFAULT_PROFILE",
    "FAMILY",
    "FINISHED",
    "GIVEN",
    "LIFECYCLES",
    "MIDDLE",
    "OPEN",
    "Generated",
    "Lifecycle",
    "Profile",
    "Seasonality",
    "Staff",
    "generate",
]
