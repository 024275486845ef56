"""Payment gateways, configured by `settings.CCHC_PAYMENT_GATEWAYS` (see `cchc.config`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from cchc.errors import NotFound
from cchc.payments.gateways.base import Gateway
from cchc.payments.gateways.vnpay import VnpayGateway


def configured() -> dict[str, dict[str, Any]]:
    return dict(getattr(settings, "CCHC_PAYMENT_GATEWAYS", {}) or {})


def get(name: str) -> Gateway:
    conf = configured().get(name)
    if conf is None:
        raise NotFound(f"Không có cổng thanh toán «{name}».", code="payment.gateway_unknown")
    if conf["protocol"] == "vnpay":
        return VnpayGateway(name=name, **{k: v for k, v in conf.items() if k != "protocol"})
    raise NotFound(f"Không có cổng thanh toán «{name}».", code="payment.gateway_unknown")


def available() -> list[Gateway]:
    return [get(name) for name in configured()]
