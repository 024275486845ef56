"""The record of past dossier imports shows only runs within the viewer's scope (issue 14,
item 8): a run is seen by those whose `dossier.import` grant covers the importer's grant
when the run started; the run's page and its refused-rows download likewise."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cchc.accounts.roles import Role
from cchc.interop.dossiers import DossierImporter
from cchc.interop.runs import visible_runs
from cchc.org.models import AdministrativeUnit

from .test_import_dossiers import MESSY, NOW, province  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
LIST = "/nhap-du-lieu/ho-so/"


def unit(code: str) -> AdministrativeUnit:
    return AdministrativeUnit.objects.valid_on(NOW.date()).get(code=code)


@pytest.fixture
def people(province, make_user):  # noqa: F811
    return {
        "admin": make_user(Role.ADMINISTRATOR),
        "province": make_user(Role.PROVINCIAL_SUPERVISOR, unit=unit("24")),
        "city": make_user(Role.PROVINCIAL_SUPERVISOR, unit=unit("213")),  # TP Bắc Giang
        "town": make_user(Role.PROVINCIAL_SUPERVISOR, unit=unit("222")),  # TX Việt Yên
    }


@pytest.fixture
def runs(people):
    """One run per importer, named by who ran it."""
    return {
        who: DossierImporter().run(str(MESSY), actor=user, now=NOW, source_name=who).run_id
        for who, user in people.items()
    }


def listed(client, user, runs) -> set[str]:
    client.force_login(user)
    page = client.get(LIST).content.decode()
    return {who for who, pk in runs.items() if reverse("imports:run", args=[pk]) in page}


def seen_by(user, runs) -> set[str]:
    ids = {r.pk for r in visible_runs(user, kind="dossiers")}
    return {who for who, pk in runs.items() if pk in ids}


def test_each_viewer_sees_the_runs_within_their_scope(people, runs):
    assert seen_by(people["admin"], runs) == {"admin", "province", "city", "town"}
    assert seen_by(people["province"], runs) == {"province", "city", "town"}
    assert seen_by(people["city"], runs) == {"city"}
    assert seen_by(people["town"], runs) == {"town"}


def test_the_import_page_lists_only_visible_runs(client, people, runs):
    assert listed(client, people["city"], runs) == {"city"}
    assert listed(client, people["province"], runs) == {"province", "city", "town"}
    assert listed(client, people["admin"], runs) == set(runs)


def test_a_run_outside_ones_scope_is_not_shown_nor_downloaded(client, people, runs):
    client.force_login(people["city"])
    own = reverse("imports:run", args=[runs["city"]])
    assert client.get(own).status_code == 200
    assert client.get(own, {"tai": "csv"})["Content-Type"].startswith("text/csv")
    for other in ("province", "town", "admin"):
        url = reverse("imports:run", args=[runs[other]])
        page = client.get(url)
        assert page.status_code == 404
        assert "Không tìm thấy lần nhập dữ liệu này" in page.content.decode()
        assert client.get(url, {"tai": "csv"}).status_code == 404
    client.force_login(people["province"])
    assert client.get(reverse("imports:run", args=[runs["town"]])).status_code == 200
    assert client.get(reverse("imports:run", args=[runs["admin"]])).status_code == 404
