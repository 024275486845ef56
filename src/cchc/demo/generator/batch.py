"""Rows of a batch of generated dossiers: each dossier row (applicant, intake facts, stored
projection), its events (`events`), components, fees, result, and the payments' receipts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
from django.db import connection

from cchc import legaltime
from cchc.calendars.services import DEFAULT_CALENDAR
from cchc.demo.generator import apologies
from cchc.demo.generator.epochs import DAY, EPOCH_DAY, VN_OFFSET, epoch, stamps
from cchc.demo.generator.events import Actor, Draft, EventRows
from cchc.demo.generator.inputs import (
    COMPANY,
    FAMILY,
    GIVEN,
    MIDDLE,
    RATINGS,
    STREETS,
    TRADE,
    Staff,
)
from cchc.demo.generator.lifecycles import Lifecycle, steps_after
from cchc.demo.generator.plan import Plan
from cchc.demo.generator.procedures import Proc
from cchc.demo.generator.projection import BatchProjection, project_batch
from cchc.demo.generator.receipts import Payments, ReceiptRows
from cchc.demo.generator.scans import Scans
from cchc.dossiers import rules
from cchc.dossiers.models import (
    OPEN_STATES,
    PAUSED_STATES,
    Dossier,
    DossierComponent,
    DossierEvent,
    DossierFee,
    DossierResult,
)
from cchc.vietnamese import fold

RISK_NOTE = "Thời gian còn lại ít hơn thời gian xử lý thông thường của thủ tục."


def label(user: Any) -> str:
    """An actor's label as the services write it."""
    if user is None or getattr(user, "pk", None) is None:
        return "hệ thống"
    return getattr(user, "full_name", "") or user.username


def applicant(pick: list[int]) -> tuple[bool, str, str]:
    """An invented applicant: (a person?, name, identity or tax number)."""
    if pick[5] % 10 != 0:
        name = (
            f"{FAMILY[pick[5] % len(FAMILY)]} {MIDDLE[pick[6] % len(MIDDLE)]} "
            f"{GIVEN[pick[7] % len(GIVEN)]}"
        )
        return True, name, f"0241{pick[6] % 100:02d}{pick[7] % 1000000:06d}"
    name = COMPANY[pick[6] % len(COMPANY)].format(TRADE[pick[7] % len(TRADE)])
    return False, name, f"24{pick[7] % 100000000:08d}"


class _Tables:
    """The rows of one batch by table, with the running ids."""

    def __init__(self, ids: dict[Any, int]) -> None:
        self.dossier_id = ids[Dossier]
        self.event_id = ids[DossierEvent]
        self.component_id = ids[DossierComponent]
        self.fee_id = ids[DossierFee]
        self.result_id = ids[DossierResult]
        self.dossiers: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.components: list[tuple[Any, ...]] = []
        self.fees: list[tuple[Any, ...]] = []
        self.results: list[tuple[Any, ...]] = []


class RowBuilder:
    """Turns a plan into rows, batch by batch (`rows`); counts states, overdue and at-risk
    open dossiers on the way."""

    def __init__(
        self,
        plan: Plan,
        procs: list[Proc],
        users: Staff,
        cal: legaltime.Calendar,
        *,
        desk: Any,
        codes: list[str],
        version: int,
        now: dt.datetime,
        rng: np.random.Generator,
        is_demo: bool,
        payments: Payments | None,
    ) -> None:
        self.plan, self.procs, self.users, self.cal = plan, procs, users, cal
        self.desk, self.receiving, self.codes = desk, desk.host_agency, codes
        self.version = version
        self.now_s = epoch(now)
        self.rng = rng
        self.postgres = connection.vendor == "postgresql"
        self.cal_code = desk.calendar.code if desk.calendar_id else DEFAULT_CALENDAR
        self.is_demo = is_demo
        self.payments = payments
        self.states: dict[str, int] = {}
        self.overdue_open = 0
        self.at_risk = 0
        self.labels: dict[int | None, tuple[str, str]] = {}
        self.steps_cache: dict[tuple[str, int], list[int | None]] = {}
        self.rulesets: dict[int, str] = {}
        self.folded: dict[str, str] = {}
        self.sequences: dict[tuple[str, int, bool], tuple[tuple[str, int], ...]] = {}
        self.scans: Scans | None = None  # digitisation facts, from the first batch's ids
        self._now_text = stamps(np.array([self.now_s]), self.postgres)[0]

    def user(self, user: Any) -> Actor:
        """(id, label, label as JSON) of a user (None: the system), cached."""
        pk = getattr(user, "pk", None)
        if pk not in self.labels:
            text = label(user)
            self.labels[pk] = (text, json.dumps(text))
        return pk, *self.labels[pk]

    def steps(self, cycle: Lifecycle, steps: int) -> list[int | None]:
        """`steps_after` of the lifecycle's actions, cached."""
        key = (cycle.name, steps)
        if key not in self.steps_cache:
            self.steps_cache[key] = steps_after(cycle.actions, steps)
        return self.steps_cache[key]

    def sequence(self, cycle: Lifecycle, pay: int, rate: bool) -> tuple[tuple[str, int], ...]:
        """The events of a dossier as (action, position in the lifecycle's instants;
        -1 for the profile's extras, whose instants are kept apart)."""
        key = (cycle.name, pay, rate)
        cached = self.sequences.get(key)
        if cached is None:
            out = [("submit", 0)]
            if pay == 2:
                out.append(("pay", -1))
            for position, action in enumerate(cycle.actions, start=1):
                out.append((action, position))
                if action == "receive" and pay == 1:
                    out.append(("pay", -1))
            if rate:
                out.append(("rate", -1))
            cached = self.sequences[key] = tuple(out)
        return cached

    def ruleset(self, day: int) -> str:
        """The appointment rule set in force on a local day (days since 1970), cached."""
        code = self.rulesets.get(day)
        if code is None:
            code = self.rulesets[day] = rules.ruleset_on(EPOCH_DAY + dt.timedelta(days=day)).code
        return code

    def rows(self, lo: int, hi: int, ids: dict[Any, int]) -> dict[Any, list[tuple[Any, ...]]]:
        """The rows of dossiers `lo`..`hi` of the plan by model, ids from `ids`."""
        plan, k = self.plan, hi - lo
        batch = project_batch(
            plan,
            self.procs,
            self.cal,
            lo,
            hi,
            steps_of=self.steps,
            now_s=self.now_s,
            postgres=self.postgres,
        )
        self.overdue_open += batch.overdue_open
        self.at_risk += batch.at_risk
        picks = self.rng.integers(0, 1 << 30, size=(k, 8)).tolist()
        sl = slice(lo, hi)
        extras = {
            "agency": plan.agency[sl].tolist(),
            "channel": plan.channel[sl].tolist(),
            "day": ((plan.times[sl, 0] + VN_OFFSET) // DAY).tolist(),
            "pay": plan.pay[sl].tolist(),
            "pay_at": stamps(plan.pay_at[sl], self.postgres),
            "pay_s": plan.pay_at[sl].tolist(),
            "pay_day": ((plan.pay_at[sl] + VN_OFFSET) // DAY).tolist(),
            "rating": plan.rating[sl].tolist(),
            "rate_at": stamps(plan.rate_at[sl], self.postgres),
            "digitised": None if plan.digitised is None else plan.digitised[sl].tolist(),
            "reused": plan.reused[sl].tolist(),
        }
        tables = _Tables(ids)
        if self.scans is None:
            self.scans = Scans(ids, postgres=self.postgres)
        receipts = (
            ReceiptRows(self.payments, ids, postgres=self.postgres) if self.payments else None
        )
        events = EventRows(version=self.version, receipts=receipts)
        for i in range(k):
            self._dossier(tables, events, batch, extras, lo + i, i, picks[i])
        out: dict[Any, list[tuple[Any, ...]]] = {
            Dossier: tables.dossiers,
            DossierEvent: tables.events,
            DossierComponent: tables.components,
            DossierFee: tables.fees,
            DossierResult: tables.results,
            **self.scans.take(),
        }
        if receipts is not None:
            out[Payments.PaymentOrder] = receipts.orders
            out[Payments.Receipt] = receipts.receipts
        return out

    def _draft(
        self, tables: _Tables, batch: BatchProjection, extras: dict[str, Any], row: int, i: int,
        pick: list[int], holder: tuple[bool, str, str] | None = None,
    ) -> Draft:  # fmt: skip
        """Everything one dossier's events and row are made of (`holder`: the applicant,
        when a reuse decided it; else an invented one)."""
        cycle, proc = batch.cycles[i], self.procs[self.plan.proc[row]]
        agency_id, channel = extras["agency"][i], extras["channel"][i]
        users = self.users
        desk_user = self.user(users.desk_officers[pick[0] % len(users.desk_officers)])
        officers, leaders = users.officers[agency_id], users.leaders[agency_id]
        citizens = users.citizens
        citizen = citizens[pick[3] % len(citizens)] if citizens and channel != 1 else None
        pay_kind = extras["pay"][i]
        rating = extras["rating"][i] if citizen is not None else 0
        exact = self.plan.exact.get(row) if self.plan.exact else None
        return Draft(
            row=row,
            dossier_id=tables.dossier_id,
            code=self.codes[row],
            proc=proc,
            cycle=cycle,
            sequence=self.sequence(cycle, pay_kind, bool(rating)),
            steps=self.steps(cycle, proc.steps),
            channel=channel,
            ruleset=self.ruleset(extras["day"][i]),
            stamps=batch.event_stamps[i],
            pick=pick,
            applicant=holder or applicant(pick),
            desk_user=desk_user,
            officer=self.user(officers[pick[1] % len(officers)]),
            leader=self.user(leaders[pick[2] % len(leaders)]),
            submitter=self.user(citizen) if channel != 1 else desk_user,
            system=self.user(None),
            citizen=citizen,
            pay_kind=pay_kind,
            pay_at=extras["pay_at"][i],
            pay_day=extras["pay_day"][i],
            paid_s=extras["pay_s"][i],
            submitted_s=int(self.plan.times[row, 0]),
            rate_at=extras["rate_at"][i],
            rating=rating,
            apology=json.dumps(exact[0][0]) if exact is not None else None,
        )

    def _dossier(
        self, tables: _Tables, events: EventRows, batch: BatchProjection, extras: dict[str, Any],
        row: int, i: int, pick: list[int],
    ) -> None:  # fmt: skip
        digitised = extras["digitised"]
        channel = extras["channel"][i]
        # Originally only components sent online were scanned.
        docs = self.procs[self.plan.proc[row]].docs
        scanned = bool(docs) and (channel == 2 if digitised is None else bool(digitised[i]))
        # Digitisation facts (`scans`): a planned reuse takes an earlier scan of one of the
        # dossier's component types, whose holder becomes the applicant.
        assert self.scans is not None
        at = self._intake_at(batch, i, row, channel)
        reuse = None
        if scanned and extras["reused"][i]:
            reuse = self.scans.choose(docs, at, pick[4])
            self.scans.unmatched += reuse is None
        d = self._draft(tables, batch, extras, row, i, pick, reuse[2] if reuse else None)
        event_rows, approve_id, final_state = events.build(d, tables.event_id)
        tables.events.extend(event_rows)
        self.states[final_state] = self.states.get(final_state, 0) + 1
        if row in self.plan.exact:
            values, paid = self._exact_values(d, extras["agency"][i], event_rows)
        else:
            values, paid = self._projected_values(d, batch, i, final_state, extras["agency"][i])
        tables.dossiers.append(
            self._dossier_row(d, values, paid, final_state, batch.risk[i], extras["agency"][i],
                              digitised=scanned, reused=reuse is not None)
        )  # fmt: skip
        first_component = tables.component_id
        self._attachments(tables, d, event_rows, approve_id, scanned, reuse)
        if scanned:
            self.scans.add(
                d.dossier_id,
                first_component,
                docs,
                at=at,
                by=(d.submitter if channel == 2 else d.desk_user)[0],
                applicant=d.applicant,
                reuse=reuse,
            )
        tables.event_id += len(event_rows)
        tables.dossier_id += 1

    def _intake_at(self, batch: BatchProjection, i: int, row: int, channel: int) -> int:
        """When the components were digitised (epoch seconds): sent online at the
        submission; else scanned at the desk's receipt (at the counter, for a dossier
        never received)."""
        if channel != 2 and batch.received[i]:
            return int(self.plan.received[row])
        return int(self.plan.times[row, 0])

    def _projected_values(
        self, d: Draft, batch: BatchProjection, i: int, final_state: str, agency_id: int
    ) -> tuple[list[Any], tuple[Any, ...]]:
        """The stored projection from the vectorised path, and the payment/rating fields."""
        payments, cycle, stamp = self.payments, d.cycle, batch.stamps
        received = batch.received[i]
        paid = (
            d.proc.fee_total if d.pay_kind else 0,
            ("cash" if d.pay_kind == 1 else payments.channel) if payments and d.pay_kind else "",
            RATINGS[d.rating - 1] if d.rating else "",
            False,
        )
        values = [
            stamp["received"][i],
            stamp["clock"][i],
            stamp["original"][i],
            stamp["due"][i],
            batch.paused[i] if received else 0,
            stamp["pause_start"][i] if final_state in PAUSED_STATES else None,
            self.cal.version if received else "",
            0,
            cycle.actions.count("request_supplement"),
            batch.steps[i],
            stamp["step_due"][i],
            agency_id,
            d.officer[0] if "assign" in cycle.actions else None,
            stamp["finished"][i],
            stamp["returned"][i],
            batch.outcome[i],
            batch.outcome_original[i],
            False,
        ]
        return values, paid

    def _exact_values(
        self, d: Draft, agency_id: int, event_rows: list[tuple[Any, ...]]
    ) -> tuple[list[Any], tuple[Any, ...]]:
        """The stored projection of an apology dossier, from `replay.project` itself."""
        proj = apologies.project_exact(self.plan, d.row, d.proc, agency_id, event_rows, self.cal)
        text = self._text
        values = [
            text(proj["received_at"]),
            text(proj["clock_start"]),
            text(proj["original_due"]),
            text(proj["due"]),
            proj["paused_seconds"],
            text(proj["paused_since"]),
            proj["calendar_version"],
            proj["extensions"],
            proj["supplement_requests"],
            proj["step_index"],
            text(proj["step_due"]),
            proj["current_agency_id"],
            proj["assignee_id"],
            text(proj["finished_at"]),
            text(proj["returned_at"]),
            proj["outcome"],
            proj["outcome_original"],
            proj["has_apology"],
        ]
        paid = (proj["paid_amount"], proj["payment_channel"], proj["rating"], proj["has_complaint"])
        return values, paid

    def _attachments(
        self, tables: _Tables, d: Draft, event_rows: list[tuple[Any, ...]],
        approve_id: int | None, digitised: bool, reuse: tuple[int, int, Any] | None,
    ) -> None:  # fmt: skip
        """The dossier's components (the procedure's mandatory documents), fees and result;
        `reuse`: (position of the reused component, …) as `Scans.choose` gives it."""
        dossier_id = d.dossier_id
        for position, (doc_id, doc_name, originals, copies) in enumerate(d.proc.docs):
            tables.components.append(
                (
                    tables.component_id,
                    dossier_id,
                    position,
                    doc_id,
                    doc_name,
                    originals,
                    copies,
                    digitised,
                    reuse is not None and position == reuse[0],
                )
            )
            tables.component_id += 1
        for fee_name, amount in d.proc.fees:
            tables.fees.append((tables.fee_id, dossier_id, fee_name, amount))
            tables.fee_id += 1
        if approve_id is not None:
            tables.results.append(
                (
                    tables.result_id,
                    dossier_id,
                    1,
                    f"{d.code}-KQ1",
                    d.proc.result_plain,
                    d.proc.electronic,
                    None,
                    approve_id,
                    event_rows[approve_id - tables.event_id][8],
                )
            )
            tables.result_id += 1

    def _text(self, value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        return stamps(np.array([epoch(value)]), self.postgres)[0]

    def _dossier_row(
        self, d: Draft, values: list[Any], paid: tuple[Any, ...], final_state: str, risk: bool,
        agency_id: int, *, digitised: bool, reused: bool,
    ) -> tuple[Any, ...]:  # fmt: skip
        """The `Dossier` row in the column order of `rows.COLUMNS[Dossier]`."""
        proc, pick, code, channel = d.proc, d.pick, d.code, d.channel
        person, name, id_number = d.applicant
        # Queue order (replay.project): the due once received, else the submission.
        queue_at = values[3] if values[3] is not None else d.stamps[0]
        folded_name = self.folded.get(name)
        if folded_name is None:
            folded_name = self.folded[name] = fold(name)
        online = channel == 2
        return (
            d.dossier_id,
            code,
            d.ruleset,
            proc.obj.pk,
            self.desk.pk,
            self.receiving.pk,
            agency_id,
            channel,
            proc.obj.online_level if online else "none",
            "person" if person else "organisation",
            name,
            id_number,
            f"Số {pick[4] % 200 + 1} đường {STREETS[pick[4] % len(STREETS)]}",
            f"09{pick[3] % 100000000:08d}",
            "" if pick[2] % 3 else f"nguoinop{pick[3] % 100000}@example.vn",
            getattr(d.citizen, "pk", None),
            proc.matter,
            1,
            "desk" if channel == 1 else ("online" if online else "post"),
            proc.obj.duration_spec,
            proc.step_plan,
            self.cal_code,
            bool(self.desk.saturday_reception),
            d.stamps[0],
            f"{code.lower()} {folded_name} {proc.folded}"[:800],
            self.is_demo,
            proc.fee_total,
            digitised,
            reused,
            False,  # result_in_datastore: set only by a delivery to the holder's store
            "",  # source: generated here, not imported
            "",
            len(d.sequence),  # version: one per event
            final_state,
            final_state in OPEN_STATES,
            queue_at,
            *values,
            *paid,
            risk,
            RISK_NOTE if risk else "",
            self._now_text if risk else None,
            False,  # certified_copy: no certified copy is generated
        )
