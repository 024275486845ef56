"""Fixtures of the PAKN tests: the dossier world (organisation, desk, officers of Sở Tư pháp
and of another agency, a supervisor, a citizen) and helpers to file PAKN at given instants."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import VN
from tests.dossiers.conftest import World, world  # noqa: F401 - fixture re-exported


def at(day: str, hm: str = "09:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=VN)


@pytest.fixture
def file_pakn(world: World):  # noqa: F811 - the re-exported fixture
    from cchc.feedback import services

    def make(when: dt.datetime, *, sender: Any = None, agency: Any = None, **changes: Any):
        values = {
            "name": "Nguyễn Thị Hoà",
            "phone": "0912345678",
            "email": "hoa@example.vn",
            "subject": "Chậm trả kết quả",
            "content": "Hồ sơ của tôi đã quá hẹn mà chưa có kết quả.",
            "agency_id": (agency or world.org.justice).pk,
        }
        values.update(changes)
        return services.submit(sender, services.Submission(**values), now=when)

    return make
