"""The demo generator is a pure function of its seed: the base demo set (made through the
services) and 300 generated dossiers of 2024 hash, table by table, to the golden values
recorded in `generator_fingerprint.json` (so does the default profile's load, in
tests/dossiers/test_bulk.py). A refactoring of the generator or of the event payloads that
changes any row (a value, an order, a key order in a JSON payload) fails here.

Re-record (only after a deliberate change of the generated data):
`CCHC_RECORD_FINGERPRINT=1 DEBUG=true .venv/bin/pytest tests/demo/test_generator_fingerprint.py
tests/dossiers/test_bulk.py`
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.demo import fingerprint

pytestmark = pytest.mark.django_db

N = 300
SEED = 11


def test_generated_rows_match_the_golden_fingerprint():
    if connection.vendor != "sqlite":
        pytest.skip("golden hashes are recorded on SQLite (ids follow its sequences)")
    fingerprint.restart_ids()
    fingerprint.load(N, seed=SEED)
    assert fingerprint.check_or_record("year-2024", n=N, seed=SEED) == []
