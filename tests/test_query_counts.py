"""Every main page's SQL is bounded and does not grow with the data (issue 18, item 4).

The demo data set is loaded once; each page is fetched, as each role that uses it, on that
small data set; then many more dossiers are written (a slice of the 2024 province-year across
every desk of the 2024 organisation, with PAKN, plus months of work at today's provincial
centre for the demo desk officer, handler, leader and citizen) and the same pages are fetched
again. The two counts must be equal and under the page's stated bound. Each page is fetched
twice at each size and the second fetch is counted, so that per-process caches (the working
calendar, the procedure catalogue) filled by the first do not count.

The dashboard pages (/chi-so/) have their own tests (tests/dashboard).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import built_once

pytestmark = pytest.mark.django_db

GROWTH_2024 = 400  # generated dossiers of 2024 (Bắc Giang's desks; the supervisor sees them)
GROWTH_TODAY = 300  # generated dossiers at today's Bắc Ninh centre (Sở Tư pháp)
GROWTH_PAKN = 30  # PAKN filed at Sở Tư pháp
GROWTH_REPORTS = 10  # progress reports on plan tasks


@dataclass(frozen=True)
class Page:
    """One page as one visitor sees it; `url` is resolved on the small data set."""

    name: str
    who: str  # a demo user name; "" is an anonymous visitor
    url: Callable[[], str]
    bound: int
    form: Callable[[], dict[str, str]] | None = None  # sent as a POST (the tracking form)


def _fixed(url: str) -> Callable[[], str]:
    return lambda: url


def _dossier_of(username: str) -> Callable[[], str]:
    def url() -> str:
        from cchc.accounts.models import User
        from cchc.dossiers.access import visible

        user = User.objects.get(username=username)
        dossier = visible(user).order_by("pk").first()
        return f"/ho-so/{dossier.code}/"

    return url


def _agency_of(username: str) -> Callable[[], str]:
    def url() -> str:
        from cchc.accounts.models import RoleAssignment

        assignment = RoleAssignment.objects.filter(
            user__username=username, agency__isnull=False
        ).first()
        return f"/co-quan/{assignment.agency_id}/"

    return url


def _citizen_dossier() -> str:
    from cchc.dossiers.models import Dossier

    dossier = Dossier.objects.filter(applicant_user__username="congdan").order_by("pk").first()
    return f"/dich-vu-cong/ho-so/{dossier.code}/"


def _procedure() -> str:
    from cchc.catalog.models import Procedure

    return f"/dich-vu-cong/thu-tuc/{Procedure.objects.order_by('code').first().code}/"


def _task() -> str:
    from cchc.plans.models import Task

    return f"/ke-hoach/nhiem-vu/{Task.objects.order_by('pk').first().pk}/"


def _tracked() -> dict[str, str]:
    from cchc.dossiers.models import Dossier

    dossier = Dossier.objects.filter(applicant_user__username="congdan").order_by("pk").first()
    return {"code": dossier.code, "factor": dossier.applicant_phone}


STAFF = ["motcua", "thuly", "lanhdao", "giamsat", "quantri", "kiemtra"]
# Bounds: what each page issues today (issue 18) plus a little room, so that a page that
# starts asking per row, or per permission, fails here long before it is slow.
PAGES: list[Page] = [
    Page("home-motcua", "motcua", _fixed("/"), 14),
    Page("home-thuly", "thuly", _fixed("/"), 14),
    Page("home-lanhdao", "lanhdao", _fixed("/"), 14),
    Page("home-giamsat", "giamsat", _fixed("/"), 22),
    Page("home-quantri", "quantri", _fixed("/"), 14),
    Page("home-kiemtra", "kiemtra", _fixed("/"), 8),
    *[Page(f"queue-{who}", who, _fixed("/ho-so/"), 16) for who in STAFF[:3]],
    Page("queue-giamsat", "giamsat", _fixed("/ho-so/"), 22),
    Page("queue-overdue", "giamsat", _fixed("/ho-so/?qua_han=1&trang_thai=open"), 22),
    Page("queue-due-soon", "thuly", _fixed("/ho-so/?sap_han=1&pham_vi=co_quan"), 16),
    Page("queue-risk", "lanhdao", _fixed("/ho-so/?nguy_co=1"), 16),
    Page("queue-search", "thuly", _fixed("/ho-so/?q=tu+phap&trang_thai=all"), 16),
    # The dossier page: +2 for the issued documents' signatures and the stored PDFs'
    # signature checks (one query each, whatever the number of documents and files).
    *[Page(f"dossier-{who}", who, _dossier_of(who), 38) for who in STAFF[:3]],
    Page("dossier-giamsat", "giamsat", _dossier_of("giamsat"), 42),
    Page("agency-lanhdao", "lanhdao", _agency_of("lanhdao"), 14),
    Page("agency-giamsat", "giamsat", _agency_of("lanhdao"), 20),
    Page("plans-overview", "giamsat", _fixed("/ke-hoach/"), 22),
    Page("plans-tasks", "giamsat", _fixed("/ke-hoach/nhiem-vu/"), 22),
    Page("plans-task", "giamsat", _task, 22),
    Page("plans-mine", "daumoi", _fixed("/ke-hoach/cua-toi/"), 10),
    Page("plans-registers", "giamsat", _fixed("/ke-hoach/so-theo-doi/"), 22),
    Page("plans-scorecard", "giamsat", _fixed("/ke-hoach/cham-diem/"), 18),
    Page("portal-home", "", _fixed("/dich-vu-cong/"), 5),
    Page("portal-catalogue", "", _fixed("/dich-vu-cong/thu-tuc/"), 7),
    Page("portal-procedure", "", _procedure, 26),
    Page("portal-my-dossiers", "congdan", _fixed("/dich-vu-cong/ho-so/"), 12),
    # 26: + the deliveries of the result to the holder's data store (one read)
    Page("portal-dossier", "congdan", _citizen_dossier, 26),
    Page("portal-drafts", "congdan", _fixed("/dich-vu-cong/nhap/"), 9),
    Page("tracking-form", "", _fixed("/dich-vu-cong/tra-cuu/"), 3),
    Page("tracking", "", _fixed("/dich-vu-cong/tra-cuu/"), 22, form=_tracked),
]


@dataclass
class Counts:
    urls: dict[str, str] = field(default_factory=dict)
    forms: dict[str, dict[str, str]] = field(default_factory=dict)
    sizes: tuple[dict[str, int], dict[str, int]] = ({}, {})  # small, big
    small: dict[str, list[str]] = field(default_factory=dict)  # page → its SQL


def _client(page: Page) -> Client:
    from cchc.accounts.models import User

    client = Client()
    if page.who:
        client.force_login(User.objects.get(username=page.who))
    return client


def _fetch(client: Client, page: Page, counts: Counts) -> None:
    url, form = counts.urls[page.name], counts.forms.get(page.name)
    response = client.post(url, form) if form is not None else client.get(url)
    assert response.status_code == 200, f"{page.name} {url} → {response.status_code}"


def _queries(page: Page, counts: Counts) -> list[str]:
    client = _client(page)
    _fetch(client, page, counts)  # warms the per-process caches
    with CaptureQueriesContext(connection) as queries:
        _fetch(client, page, counts)
    return [q["sql"] for q in queries.captured_queries]


def _difference(small: list[str], big: list[str]) -> str:
    """The statements one run made and the other did not, shortened: what to fix."""
    import difflib

    lines = difflib.unified_diff(small, big, "small", "big", lineterm="", n=0)
    return "\n".join(line[:300] for line in lines)


def _grow(now: dt.datetime) -> None:
    """Many more dossiers, events, files, fees, PAKN: the 2024 province-year's generator, and
    the bulk generator at today's provincial centre with the demo staff and citizen."""
    from cchc.accounts.models import User
    from cchc.catalog.models import Procedure
    from cchc.demo import generator
    from cchc.demo.scale import generate_year
    from cchc.org.models import Agency, Desk

    generate_year(GROWTH_2024, year=2024, seed=18, now=now)
    users = {u.username: u for u in User.objects.filter(username__in=[*STAFF, "congdan"])}
    desk = Desk.objects.get(code="TTPVHCC-BN")
    justice = Agency.objects.get(
        pk=users["thuly"].roles.filter(agency__isnull=False).first().agency_id
    )
    procedures = list(Procedure.objects.filter(competent_agency_type=justice.agency_type))
    # Months of work before the demo's two months: the citizen's newest dossiers (the first
    # page of "my dossiers") stay the demo's, whose mix of states shows every part of it.
    before = now - dt.timedelta(days=65)
    generator.generate(
        GROWTH_TODAY,
        seed=18,
        start=before - dt.timedelta(days=180),
        end=before,
        desk=desk,
        procedures=procedures,
        agencies=[justice],
        users=generator.Staff(
            desk_officers=[users["motcua"]],
            officers={justice.pk: [users["thuly"]]},
            leaders={justice.pk: [users["lanhdao"]]},
            citizens=[users["congdan"]],
        ),
        now=before,
        open_share=0.3,
        is_demo=True,
    )
    # PAKN about the agency the demo handler and leader work in, as citizens file them.
    from cchc.feedback import services as feedback

    for i in range(GROWTH_PAKN):
        feedback.submit(
            None,
            feedback.Submission(
                name=f"Người dân {i}",
                phone="0912345678",
                email=f"nguoidan{i}@example.vn",
                subject="Chậm trả kết quả",
                content="Hồ sơ của tôi đã quá hẹn mà chưa có kết quả.",
                agency_id=justice.pk,
            ),
            now=now - dt.timedelta(hours=i + 1),
        )
    # Progress reports on the plan's tasks (the focal point's), as the plan pages count them.
    from cchc.errors import Conflict, InvalidInput
    from cchc.plans import progress, services

    reporter = User.objects.get(username="daumoi")
    pairs = [
        (task, period)
        for task in services.reportable_tasks(reporter).order_by("pk")
        for period in services.deliverable_periods(task) or [None]
    ]
    made = 0
    for _ in range(GROWTH_REPORTS):  # several reports per period: progress as it goes
        for task, period in pairs:
            try:
                progress.submit_report(
                    reporter,
                    task,
                    progress=40,
                    note="Đang triển khai (dữ liệu kiểm thử số truy vấn).",
                    period=period.key if period else "",
                    now=now,
                )
            except (Conflict, InvalidInput):  # a period done, or not begun, takes none
                continue
            made += 1
            if made == GROWTH_REPORTS:
                return


def _sizes() -> dict[str, int]:
    """What the pages read, counted: the big data set must be much bigger than the small."""
    from cchc.dossiers.models import Dossier, DossierEvent
    from cchc.feedback.models import Feedback
    from cchc.plans.models import TaskReport

    return {
        "dossiers": Dossier.objects.count(),
        "events": DossierEvent.objects.count(),
        "pakn": Feedback.objects.count(),
        "reports": TaskReport.objects.count(),
    }


@pytest.fixture(scope="module")
def counts(django_db_setup, django_db_blocker) -> Iterator[Counts]:
    from django.conf import settings
    from django.utils import timezone

    from cchc.demo.loader import load_demo

    found = Counts()
    required, settings.CCHC_2FA_REQUIRED_ROLES = settings.CCHC_2FA_REQUIRED_ROLES, []
    try:
        with built_once(django_db_blocker):
            now = timezone.now()
            load_demo(now=now)
            for page in PAGES:
                found.urls[page.name] = page.url()
                if page.form is not None:
                    found.forms[page.name] = page.form()
                found.small[page.name] = _queries(page, found)
            small = _sizes()
            _grow(now)
            found.sizes = (small, _sizes())
            yield found
    finally:
        settings.CCHC_2FA_REQUIRED_ROLES = required


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_queries_are_bounded_and_do_not_grow(counts, page, django_assert_max_num_queries):
    client = _client(page)
    _fetch(client, page, counts)
    with django_assert_max_num_queries(page.bound) as big:
        _fetch(client, page, counts)
    small = counts.small[page.name]
    sql = [q["sql"] for q in big.captured_queries]
    print(f"QC {page.name}: {len(small)} -> {len(sql)}")
    assert len(sql) == len(small), (
        f"{page.name} ({counts.urls[page.name]}): {len(small)} queries on the small data "
        f"set, {len(sql)} on the big one:\n{_difference(small, sql)}"
    )


def test_the_big_data_set_is_much_bigger(counts):
    small, big = counts.sizes
    assert big["dossiers"] >= small["dossiers"] + GROWTH_2024 + GROWTH_TODAY
    assert big["events"] >= 5 * small["events"]
    assert big["pakn"] >= small["pakn"] + GROWTH_PAKN
    assert big["reports"] >= small["reports"] + GROWTH_REPORTS


def test_a_scope_is_walked_once_per_request_and_role_changes_apply_on_the_next(
    counts, client, django_assert_num_queries
):
    """The memo of the user's reach (cchc.accounts.policy) saves the tree walks of every
    permission after the first; it lives on the request's user object, so a role revoked
    between two requests is gone on the second."""
    from django.utils import timezone

    from cchc.accounts import policy
    from cchc.accounts import services as accounts
    from cchc.accounts.models import User
    from cchc.accounts.roles import PERMISSIONS, Role

    supervisor = User.objects.get(username="giamsat")
    held = [p for p, holders in PERMISSIONS.items() if Role.PROVINCIAL_SUPERVISOR in holders]
    assert len(held) > 3
    first = policy.grant(supervisor, held[0])
    assert len(first.agency_ids) > 20  # the province and the units merged into it
    with django_assert_num_queries(0):
        assert all(policy.grant(supervisor, p) == first for p in held[1:])

    client.force_login(supervisor)
    assert client.get("/ho-so/").status_code == 200
    admin = User.objects.get(username="quantri")
    accounts.revoke_role(admin, supervisor.roles.get(active=True), now=timezone.now())
    assert client.get("/ho-so/").status_code == 403
