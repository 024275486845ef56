"""The capped pagination of long lists (cchc.webkit.paging) on a real table."""

from __future__ import annotations

import pytest

from cchc.accounts.models import User
from cchc.webkit.paging import CappedPaginator, page_of

pytestmark = pytest.mark.django_db


def _users(n: int) -> None:
    User.objects.bulk_create(User(username=f"u{i:03d}", password="!") for i in range(n))


def test_below_the_cap_the_count_is_exact():
    _users(7)
    paginator = CappedPaginator(User.objects.order_by("username"), 3, cap=10)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (7, False, 3)
    assert [u.username for u in paginator.page(3)] == ["u006"]


def test_above_the_cap_pages_stop_at_the_cap(django_assert_max_num_queries):
    _users(25)
    qs = User.objects.order_by("username")
    paginator = CappedPaginator(qs, 5, cap=12)
    with django_assert_max_num_queries(1):
        assert (paginator.count, paginator.capped) == (12, True)
    assert paginator.num_pages == 3
    # A page asked past the cap (or not a number) gives the last / first one, never an error.
    assert [u.username for u in page_of(qs, 5, "99", cap=12)] == [
        f"u{i:03d}" for i in range(10, 15)
    ]
    assert page_of(qs, 5, "x", cap=12).number == 1


def test_exactly_the_cap_is_exact_and_lists_work_too():
    _users(12)
    assert CappedPaginator(User.objects.all(), 5, cap=12).capped is False
    assert CappedPaginator(list(range(13)), 5, cap=12).capped is True
    assert CappedPaginator(list(range(12)), 5, cap=12).count == 12
