"""Read-only admin views of payment records (administrators inspect orders and the raw
gateway callbacks; every change goes through the payment services, never the admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cchc.accounts.admin_base import AuditedAdmin
from cchc.payments.models import Exemption, GatewayCallback, PaymentOrder, Receipt, Refund


class ReadOnlyAdmin(AuditedAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PaymentOrder)
class PaymentOrderAdmin(ReadOnlyAdmin):
    list_display = ["txn_ref", "dossier", "amount", "gateway", "channel", "status", "created_at"]
    list_filter = ["status", "gateway", "needs_refund"]
    search_fields = ["txn_ref", "dossier__code", "gateway_txn_no"]
    date_hierarchy = "created_at"


@admin.register(GatewayCallback)
class GatewayCallbackAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "gateway", "kind", "txn_ref", "signature_valid", "outcome"]
    list_filter = ["kind", "outcome", "signature_valid"]
    search_fields = ["txn_ref"]
    date_hierarchy = "received_at"


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["number", "dossier", "amount", "channel", "issued_at", "issued_by_label"]
    search_fields = ["number", "dossier__code"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["order", "amount", "state", "requested_at", "response_code"]
    list_filter = ["state"]


@admin.register(Exemption)
class ExemptionAdmin(ReadOnlyAdmin):
    list_display = ["dossier", "amount", "recorded_at"]
