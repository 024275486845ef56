"""Fees paid on generated dossiers: the receipts (and, for online payments, the paid gateway
orders) that `cchc.payments.services` writes with a `pay` event, with receipt numbers
continuing each year's counter (the generator is the only writer while it runs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from cchc.demo.generator.epochs import EPOCH_DAY, stamp
from cchc.demo.generator.templates import INT, TEXT, Template
from cchc.dossiers import payloads
from cchc.legaltime.instants import from_epoch
from cchc.payments.models import PaymentOrder, Receipt, ReceiptCounter
from cchc.payments.services import receipt_form_and_series

PAY_CASH = Template(payloads.pay, amount=INT, channel="cash", receipt=TEXT)
PAY_ONLINE = Template(payloads.pay, amount=INT, channel=TEXT, order=TEXT, receipt=TEXT)


class Payments:
    """The payment settings (first configured gateway) and the receipt counters."""

    Receipt = Receipt
    PaymentOrder = PaymentOrder

    def __init__(self) -> None:
        gateways = getattr(settings, "CCHC_PAYMENT_GATEWAYS", {}) or {}
        name = next(iter(gateways), "vnpay")
        self.gateway = name
        self.channel = str(gateways.get(name, {}).get("channel", "2"))
        self.label = f"Cổng thanh toán {name.upper()}"
        self.minutes = int(getattr(settings, "CCHC_PAYMENT_ORDER_MINUTES", 15))
        self.counters: dict[int, int] = dict(ReceiptCounter.objects.values_list("year", "last"))

    @classmethod
    def load(cls) -> Payments:
        return cls()

    def number(self, year: int) -> tuple[int, str]:
        """The next receipt number of `year` (as `payments.services._next_receipt_number`)."""
        last = self.counters.get(year, 0) + 1
        self.counters[year] = last
        return last, f"{year}-{last:06d}"

    def save_counters(self) -> None:
        ReceiptCounter.objects.bulk_create(
            [ReceiptCounter(year=y, last=last) for y, last in self.counters.items()],
            update_conflicts=True,
            unique_fields=["year"],
            update_fields=["last"],
        )


class ReceiptRows:
    """The receipt and order rows of one batch, with their running ids."""

    def __init__(self, payments: Payments, ids: dict[Any, int], *, postgres: bool) -> None:
        self.payments = payments
        self.postgres = postgres
        self.receipt_id = ids.get(Receipt, 0)
        self.order_id = ids.get(PaymentOrder, 0)
        self.receipts: list[tuple[Any, ...]] = []
        self.orders: list[tuple[Any, ...]] = []

    def cash(
        self, *, dossier_id: int, amount: int, at: str, day: int, payer: str, desk_user: Any
    ) -> str:
        """Cash paid at the desk (`day`: local days since 1970); the `pay` event's data."""
        year = (EPOCH_DAY + dt.timedelta(days=day)).year
        number, receipt = self.payments.number(year)
        self._receipt(
            (receipt, year, number, dossier_id, None, amount, "cash", payer, at),
            issuer=(desk_user[0], desk_user[1]),
        )
        return PAY_CASH(amount=amount, receipt=receipt)

    def online(
        self,
        *,
        dossier_id: int,
        amount: int,
        at: str,
        day: int,
        paid_s: int,
        submitted_s: int,
        payer: str,
        citizen: Any,
    ) -> str:
        """Paid through the gateway (an order opened half a minute after submission, paid
        at `paid_s`); the `pay` event's data."""
        payments = self.payments
        year = (EPOCH_DAY + dt.timedelta(days=day)).year
        number, receipt = payments.number(year)
        local = from_epoch(paid_s)
        txn = f"TT{local:%y%m%d%H%M%S}{dossier_id & 0xFFFFFF:06X}"
        created_s = submitted_s + 30
        self.orders.append(
            (
                self.order_id,
                dossier_id,
                txn,
                amount,
                payments.gateway,
                payments.channel,
                "paid",
                getattr(citizen, "pk", None),
                stamp(created_s, self.postgres),
                stamp(created_s + 60 * payments.minutes, self.postgres),
                at,
                at,
                f"{14000000 + dossier_id % 86000000:08d}",
                "NCB",
                f"{local:%Y%m%d%H%M%S}",
                "00",
                0,
                False,
                False,
                False,
                True,
            )
        )
        order = self.order_id
        self.order_id += 1
        self._receipt(
            (receipt, year, number, dossier_id, order, amount, payments.channel, payer, at),
            issuer=(None, payments.label),
        )
        return PAY_ONLINE(amount=amount, channel=payments.channel, order=txn, receipt=receipt)

    def _receipt(self, values: tuple[Any, ...], *, issuer: tuple[Any, str]) -> None:
        """(number text, year, number, dossier, order, amount, channel, payer, at) and the
        issuing user and label, as a receipt row (with the configured form and series)."""
        form_and_series = receipt_form_and_series(values[1])
        self.receipts.append((self.receipt_id, *values, *issuer, *form_and_series))
        self.receipt_id += 1
