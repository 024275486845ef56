"""Settings of the gunicorn started by test_multiprocess: the site's, with JSON logs at
DEBUG (probe lines included), the observing and probe middleware first and the test URLs."""

from cchc.settings import *  # noqa: F403
from cchc.settings import MIDDLEWARE as _SITE_MIDDLEWARE
from cchc.webkit.logs import logging_config
from tests.ops.conftest import OBSERVE, PROBE

LOGGING = logging_config(False, "DEBUG", "json")
MIDDLEWARE = [OBSERVE, PROBE, *[m for m in _SITE_MIDDLEWARE if m not in (OBSERVE, PROBE)]]
ROOT_URLCONF = "tests.ops.urls"
