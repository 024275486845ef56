"""Payment settings from the environment (`cchc.config.build`)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from cchc.config import build

PROD = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789",
    "ALLOWED_HOSTS": "cchc.example.gov.vn",
}


def test_development_gets_the_simulator():
    s = build({"DEBUG": "true"})
    assert s["CCHC_PAYMENT_SIMULATOR"] is True
    vnpay = s["CCHC_PAYMENT_GATEWAYS"]["vnpay"]
    assert vnpay["pay_url"] == "/gia-lap-thanh-toan/" and vnpay["channel"] == "2"


def test_production_has_no_simulator_and_no_gateway_by_default():
    s = build(PROD)
    assert s["CCHC_PAYMENT_SIMULATOR"] is False
    assert s["CCHC_PAYMENT_GATEWAYS"] == {}


def test_production_vnpay_needs_credentials():
    with pytest.raises(ImproperlyConfigured, match="CCHC_VNPAY_HASH_SECRET"):
        build({**PROD, "CCHC_PAYMENT_GATEWAY": "vnpay"})
    s = build(
        {
            **PROD,
            "CCHC_PAYMENT_GATEWAY": "vnpay",
            "CCHC_VNPAY_TMN_CODE": "ABCD1234",
            "CCHC_VNPAY_HASH_SECRET": "s3cr3t",
            "CCHC_VNPAY_PAY_URL": "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html",
            "CCHC_VNPAY_API_URL": "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction",
            "CCHC_VNPAY_CHANNEL": "1",
        }
    )
    conf = s["CCHC_PAYMENT_GATEWAYS"]["vnpay"]
    assert conf["tmn_code"] == "ABCD1234" and conf["channel"] == "1"


@pytest.mark.parametrize("env", [{"CCHC_VNPAY_CHANNEL": "3"}, {"CCHC_PAYMENT_GATEWAY": "momo"}])
def test_invalid_payment_settings_are_refused(env):
    with pytest.raises(ImproperlyConfigured):
        build({"DEBUG": "true", **env})
