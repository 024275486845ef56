"""Home pages that say what to do next (issue 17, item 5): per role, cards counting what
waits, each linking to the queue filtered to exactly those dossiers (or PAKN); bounded SQL
whatever the number of dossiers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cchc.dossiers.models import CLOCK_RUNNING, Dossier
from cchc.dossiers.queries import due_soon_limit
from tests.dossiers.conftest import World, world  # noqa: F401 - fixture re-exported
from tests.dossiers.desk_mix import WHEN, Mix, build, cards, queue_codes
from tests.feedback.conftest import file_pakn  # noqa: F401 - fixture re-exported

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: WHEN)
    return WHEN


@pytest.fixture
def mix(world: World, clock) -> Mix:  # noqa: F811 - the re-exported fixture
    return build(world)


def home(client, user) -> dict[str, tuple[int, str]]:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return cards(response.content.decode())


def codes(*dossiers) -> set[str]:
    return {d.code for d in dossiers}


def test_each_role_sees_its_own_cards(client, world, mix):  # noqa: F811
    assert list(home(client, world.desk_officer)) == [
        "Chờ tiếp nhận",
        "Chờ trả kết quả",
        "Chờ bổ sung",
        "Quá hạn",
        "PAKN chờ xử lý",
    ]
    assert list(home(client, world.officer)) == [
        "Của tôi",
        "Sắp đến hạn",
        "Quá hạn",
        "PAKN của tôi",
    ]
    assert list(home(client, world.leader)) == [
        "Chờ phê duyệt",
        "Nguy cơ trễ hạn",
        "Sắp đến hạn",
        "Quá hạn",
        "PAKN chờ xử lý",
    ]
    assert list(home(client, world.supervisor)) == [
        "Đang mở",
        "Sắp đến hạn",
        "Quá hạn",
        "Nguy cơ trễ hạn",
        "PAKN chờ xử lý",
    ]
    # A citizen (and the auditor, the focal point) has no queue: no cards, no catalogue tiles.
    client.force_login(world.citizen)
    page = client.get("/").content.decode()
    assert "work-card" not in page and "thủ tục đang áp dụng" not in page


def test_counts_match_the_database(client, world, mix):  # noqa: F811
    desk = home(client, world.desk_officer)
    assert desk["Chờ tiếp nhận"][0] == 2
    assert desk["Chờ trả kết quả"][0] == 1
    assert desk["Chờ bổ sung"][0] == 1
    assert desk["Quá hạn"][0] == 1  # the one-day procedure received on Monday
    mine = home(client, world.officer)
    assert mine["Của tôi"][0] == 5  # soon, late, later, approval, supplement (not other's)
    assert mine["Sắp đến hạn"][0] == 2  # soon + approval (received Monday, clock running)
    assert mine["Quá hạn"][0] == 1
    leader = home(client, world.leader)
    assert leader["Chờ phê duyệt"][0] == 1
    running = Dossier.objects.filter(is_open=True, state__in=CLOCK_RUNNING)
    soon = running.filter(due__gte=WHEN, due__lt=due_soon_limit(WHEN))
    assert leader["Sắp đến hạn"][0] == soon.count() == 4  # received, mine_soon, other, approval
    assert mix.mine_later.code not in set(soon.values_list("code", flat=True))


def test_every_card_leads_to_exactly_its_dossiers(client, world, mix):  # noqa: F811
    expected = {
        ("desk", "Chờ tiếp nhận"): codes(*mix.submitted),
        ("desk", "Chờ trả kết quả"): codes(mix.resolved),
        ("desk", "Chờ bổ sung"): codes(mix.supplement),
        ("desk", "Quá hạn"): codes(mix.mine_late),
        ("officer", "Của tôi"): codes(
            mix.mine_soon, mix.mine_late, mix.mine_later, mix.approval, mix.supplement
        ),
        ("officer", "Sắp đến hạn"): codes(mix.mine_soon, mix.approval),
        ("officer", "Quá hạn"): codes(mix.mine_late),
        ("leader", "Chờ phê duyệt"): codes(mix.approval),
        ("leader", "Sắp đến hạn"): codes(mix.received, mix.mine_soon, mix.other, mix.approval),
        ("leader", "Quá hạn"): codes(mix.mine_late),
    }
    people = {"desk": world.desk_officer, "officer": world.officer, "leader": world.leader}
    for (who, label), want in expected.items():
        count, url = home(client, people[who])[label]
        assert url.startswith("/ho-so/?"), url
        listed = queue_codes(client.get(url).content.decode())
        assert listed == want, f"{who} / {label}: {url}"
        assert count == len(listed), f"{who} / {label}"


def test_feedback_card_counts_and_links(client, world, mix, file_pakn):  # noqa: F811
    file_pakn(WHEN)
    file_pakn(WHEN, subject="Thái độ phục vụ")
    count, url = home(client, world.leader)["PAKN chờ xử lý"]
    assert count == 2
    assert url == f"{reverse('feedback:queue')}?trang_thai=open"
    page = client.get(url).content.decode()
    assert "Chậm trả kết quả" in page and "Thái độ phục vụ" in page
    assert home(client, world.officer)["PAKN của tôi"][0] == 0  # none assigned to them


def test_catalogue_figures_only_as_a_line_for_those_who_manage_it(client, world, mix):  # noqa: F811
    client.force_login(world.supervisor)
    page = client.get("/").content.decode()
    assert "thủ tục đang áp dụng" in page and 'class="muted catalogue-line"' in page
    client.force_login(world.officer)
    assert "thủ tục đang áp dụng" not in client.get("/").content.decode()


def test_home_queries_do_not_grow_with_the_number_of_dossiers(
    client,
    world,  # noqa: F811
    mix,
    django_assert_max_num_queries,
):
    def measure(user) -> int:
        client.force_login(user)
        client.get("/")  # warm: session, grants
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        return len(ctx.captured_queries)

    people = (world.desk_officer, world.officer, world.leader, world.supervisor)
    before = {u.pk: measure(u) for u in people}
    for _ in range(3):  # 36 more dossiers, in every state of the mix
        build(world)
    for user in people:
        client.force_login(user)
        client.get("/")  # warm again: the organisation's caches were reset by the writes
        with django_assert_max_num_queries(before[user.pk]):
            assert client.get("/").status_code == 200
    # Ceilings per role: sessions, grants, one aggregate per source, the calendar, the plan
    # panel. The supervisor's unit-wide grants walk the organisation tree (policy's cost,
    # the same with 10 dossiers or a million).
    ceilings = {world.desk_officer.pk: 14, world.officer.pk: 18, world.leader.pk: 22}
    ceilings[world.supervisor.pk] = 76
    assert all(before[pk] <= ceilings[pk] for pk in before), before
