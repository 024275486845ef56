"""The ops tests run with the observing and probe middleware first in the chain, as the
site's settings put them, whether or not those settings have them yet."""

from __future__ import annotations

import pytest

OBSERVE = "cchc.webkit.observe.ObserveMiddleware"
PROBE = "cchc.ops.middleware.ProbeMiddleware"


@pytest.fixture(autouse=True)
def _ops_chain(settings):
    rest = [m for m in settings.MIDDLEWARE if m not in (OBSERVE, PROBE)]
    settings.MIDDLEWARE = [OBSERVE, PROBE, *rest]
    settings.ROOT_URLCONF = "tests.ops.urls"
