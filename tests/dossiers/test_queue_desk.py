"""The work queue that says what to do next (issue 17, item 5): the handler starts on "của
tôi" with a switch to "cả cơ quan", the leader has "chờ phê duyệt", steps are chosen by
name, filters live in the URL and show as chips that clear them, bad values get a message."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.dossiers.desk_mix import WHEN, Mix, build, queue_codes

pytestmark = pytest.mark.django_db
URL = "/ho-so/"


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: WHEN)
    return WHEN


@pytest.fixture
def mix(world, clock) -> Mix:
    return build(world)


def page_of(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def codes(*dossiers) -> set[str]:
    return {d.code for d in dossiers}


def links(page: str, css_class: str) -> dict[str, str]:
    """`<a class="css_class…" href="…">label</a>` -> {label text: href}."""
    out = {}
    pattern = rf'<a class="{css_class}(?: [^"]*)?" href="([^"]+)"[^>]*>(.*?)</a>'
    for href, inner in re.findall(pattern, page, flags=re.S):
        text = " ".join(re.sub(r"<[^>]+>", " ", inner).split())
        out[html.unescape(text)] = html.unescape(href)
    return out


def test_the_handler_starts_on_mine_and_can_switch_to_the_agency(client, world, mix):
    page = page_of(client, world.officer)
    mine = codes(mix.mine_soon, mix.mine_late, mix.mine_later, mix.approval, mix.supplement)
    assert queue_codes(page) == mine
    assert 'aria-current="page" class="current">Của tôi</a>' in page
    switch = re.search(r'<a href="([^"]+)">Cả cơ quan</a>', page)
    assert switch is not None
    agency = page_of(client, world.officer, pham_vi="co_quan")
    assert queue_codes(agency) == mine | codes(mix.received, mix.other, *mix.submitted)
    assert html.unescape(switch.group(1)) == "?pham_vi=co_quan"
    # The export links carry the scope the list shows: the handler's default is written out.
    assert "pham_vi=toi&amp;format=csv" in page


def test_the_leader_starts_on_the_agency_with_an_approval_number(client, world, mix):
    page = page_of(client, world.leader)
    assert mix.other.code in queue_codes(page) and mix.received.code in queue_codes(page)
    stats = links(page, "queue-stat")
    assert "1 chờ phê duyệt" in stats
    approval = page_of(client, world.leader, **dict_of(stats["1 chờ phê duyệt"]))
    assert queue_codes(approval) == codes(mix.approval)
    # The desk officer has the desk's numbers instead.
    desk = links(page_of(client, world.desk_officer), "queue-stat")
    assert "2 chờ tiếp nhận" in desk and "1 chờ trả kết quả" in desk
    assert not any("chờ phê duyệt" in label for label in desk)


def dict_of(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(url.split("?", 1)[1]))


def test_every_number_on_the_queue_lists_exactly_that_many(client, world, mix):
    for user in (world.officer, world.leader, world.desk_officer, world.supervisor):
        page = page_of(client, user)
        for label, url in links(page, "queue-stat").items():
            count = int(label.split()[0])
            listed = queue_codes(page_of(client, user, **dict_of(url)))
            assert len(listed) == count, f"{user.username}: {label} -> {url}"


def test_steps_are_chosen_by_name(client, world, mix):
    page = page_of(client, world.leader)
    options = re.findall(r'<option value="([^"]*)"', page.split('name="buoc_ten"', 1)[1])
    options = options[: options.index("open")] if "open" in options else options
    names = [s.name for s in world.procedure.steps.order_by("position")]
    assert set(options) == {"", *names}  # the step names in scope, and "all steps"
    by_name = page_of(client, world.leader, buoc_ten="Thẩm định, xử lý hồ sơ")
    assert queue_codes(by_name) == codes(mix.mine_soon, mix.mine_later, mix.other, mix.supplement)
    approving = page_of(client, world.leader, buoc_ten="Lãnh đạo phê duyệt")
    assert queue_codes(approving) == codes(mix.approval)
    assert "Bước: Lãnh đạo phê duyệt" in approving  # the chip
    # With a procedure chosen, its process in order.
    own = page_of(client, world.leader, thu_tuc=str(world.procedure.pk))
    select = own.split('name="buoc_ten"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]+)"', select) == names
    assert queue_codes(page_of(client, world.leader, buoc_ten="Không có bước này")) == set()


def test_filters_show_as_chips_that_clear_them(client, world, mix):
    page = page_of(client, world.officer, sap_han="1", trang_thai="in_progress")
    assert queue_codes(page) == codes(mix.mine_soon)
    chips = links(page, "chip")
    assert set(chips) == {
        "Của tôi × (bỏ lọc)",
        "Trạng thái: Đang xử lý × (bỏ lọc)",
        "Sắp đến hạn × (bỏ lọc)",
    }
    without_soon = page_of(client, world.officer, **dict_of(chips["Sắp đến hạn × (bỏ lọc)"]))
    assert queue_codes(without_soon) == codes(mix.mine_soon, mix.mine_late, mix.mine_later)
    everyone = page_of(client, world.officer, **dict_of(chips["Của tôi × (bỏ lọc)"]))
    assert queue_codes(everyone) == codes(mix.mine_soon, mix.other)
    assert 'href="/ho-so/">Xóa tất cả</a>' in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pham_vi": "tat_ca"}, "Phạm vi không hợp lệ"),
        ({"buoc_ten": "x" * 301}, "Tên bước quá dài"),
        ({"thu_tuc": "abc"}, "Thủ tục"),
        ({"buoc": "0"}, "Bước xử lý"),
    ],
)
def test_bad_filter_values_get_a_message_not_an_error(client, world, params, message):
    client.force_login(world.officer)
    response = client.get(URL, params, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_queue_queries_do_not_grow_with_the_number_of_dossiers(
    client, world, mix, django_assert_max_num_queries
):
    def measure(user, **params) -> int:
        client.force_login(user)
        client.get(URL, params)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL, params).status_code == 200
        return len(ctx.captured_queries)

    cases = [
        (world.officer, {}),
        (world.leader, {"buoc_ten": "Thẩm định, xử lý hồ sơ"}),
        (world.desk_officer, {"trang_thai": "submitted"}),
    ]
    before = [measure(user, **params) for user, params in cases]
    for _ in range(3):
        build(world)
    for (user, params), count in zip(cases, before, strict=True):
        client.force_login(user)
        client.get(URL, params)
        with django_assert_max_num_queries(count):
            client.get(URL, params)
    assert reverse("dossiers:queue") == URL
