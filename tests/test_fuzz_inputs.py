"""No 5xx on bad input, anywhere (issue 14, item 5).

1. Every page (every URL pattern outside the admin and the API, found by walking the URL
   resolver) gets hostile values — integers beyond 64 bits, negative numbers, NUL bytes,
   100 000-character strings, wrong types, malformed dates — in every query parameter its
   view reads, as an administrator, a citizen and an anonymous visitor. The parameter names
   are discovered from the source of the view and of the functions it calls (so a new
   `request.GET.get("x")` is fuzzed without touching this file); path parameters are filled
   with real codes and ids of the demo data set.
2. The REST API is fuzzed by Schemathesis against its own OpenAPI schema, authenticated
   with an administrator's API token, a bounded and derandomised number of examples per
   operation; no response may be a server error.

The demo data set is loaded once for the module, inside a transaction rolled back at the end.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

DEMO_NOW = dt.datetime(2025, 9, 15, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))

# What an attacker or a clumsy hand-edited URL sends.
HOSTILE = [
    str(2**70),  # beyond 64 bits: SQLite raises OverflowError, PostgreSQL "out of range"
    str(2**63),  # one past BIGINT
    "-1",
    "0",
    "a\x00b",  # PostgreSQL refuses NUL in a string literal
    "a" * 100_000,  # SQLite refuses LIKE patterns over 50 000 bytes
    "[]'%s%(x)s%☃",  # wrong type, a quote, %-formatting, non-ASCII
    "1e999",
    "2024-13-45",
]
# The other accounts send these in every parameter at once (the ones the request guard lets
# through to the view; NUL and over-long values never reach one).
BROAD = [str(2**70), "[]'%s%(x)s%☃", "2024-13-45"]

# Prefixes not fuzzed here: Django's own admin, and the API (Schemathesis below).
SKIPPED_PREFIXES = ("admin/", "api/")
# Readiness answers 503 by design while no worker or scheduler runs (as in this test).
NOT_READY_IS_AN_ANSWER = ("/readyz",)

# Query-string keys a view reads, found in source as `.get("name"` / `["name"]` on a
# request-like object, or `source.get(...)`.
_GET_KEY = re.compile(
    r"""\b(?:GET|POST|get|source|params|query)\s*(?:\.get\(|\[)\s*["'](\w+)["']"""
)
_CALL = re.compile(r"\b([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\s*\(")


# -- discovering what each page reads ----------------------------------------------------------


def _source(obj: Any) -> str:
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        return ""


def _resolve(name: str, scope: dict[str, Any]) -> Any:
    head, _, tail = name.partition(".")
    obj = scope.get(head)
    if obj is None:
        return None
    return getattr(obj, tail, None) if tail else obj


def query_keys(view: Callable[..., Any], depth: int = 3) -> set[str]:
    """The query-string keys `view` reads, itself or through the cchc functions and forms it
    calls (to `depth` calls deep)."""
    keys: set[str] = set()
    seen: set[int] = set()

    def visit(func: Any, level: int) -> None:
        func = inspect.unwrap(func)
        if id(func) in seen or not (getattr(func, "__module__", None) or "").startswith("cchc."):
            return
        seen.add(id(func))
        if inspect.isclass(func):
            return
        source = _source(func)
        keys.update(_GET_KEY.findall(source))
        if level >= depth:
            return
        scope = {**getattr(func, "__globals__", {})}
        # Function-local imports (`from cchc.x import y`) are visible in the source only.
        for module, names in re.findall(r"from (cchc[\w.]*) import ([\w, ]+)", source):
            mod = __import__(module, fromlist=["_"])
            for n in names.split(","):
                n = n.strip()
                if n:
                    scope[n] = getattr(mod, n, None)
        for called in set(_CALL.findall(source)):
            target = _resolve(called, scope)
            if inspect.isclass(target):
                if f"{called}(request.GET" in source:  # a form bound to the query string
                    keys.update(getattr(target, "base_fields", {}))
            elif callable(target):
                visit(target, level + 1)

    visit(view, 0)
    return keys


@dataclass(frozen=True)
class Page:
    route: str  # e.g. "ho-so/<str:code>/"
    name: str  # e.g. "dossiers:detail"
    view: Callable[..., Any]


def pages() -> list[Page]:
    out: list[Page] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Page]:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                yield Page(prefix + str(p.pattern), f"{namespace}{p.name or ''}", p.callback)

    for page in walk(get_resolver(), "", ""):
        if not page.route.startswith(SKIPPED_PREFIXES):
            out.append(page)
    return out


# -- path parameters from the demo data -------------------------------------------------------


def demo_path_values() -> dict[str, dict[str, str]]:
    """Real codes and ids per URL name (a missing name falls back to 1 / "x": a 404)."""
    from cchc.catalog.models import Procedure
    from cchc.dossiers.models import Dossier, StoredFile
    from cchc.feedback.models import Feedback
    from cchc.interop.models import ImportRun
    from cchc.notifications.models import Notification
    from cchc.org.models import AdministrativeUnit, Agency
    from cchc.plans.models import Evidence, Plan, Task, TaskReport

    def first(qs: Any, attr: str = "pk") -> str:
        obj = qs.first()
        return str(getattr(obj, attr)) if obj is not None else "1"

    dossier = Dossier.objects.order_by("pk").first()
    code = dossier.code if dossier else "x"
    feedback = first(Feedback.objects.order_by("pk"), "code")
    agency = first(Agency.objects.order_by("pk"))
    return {
        "plans:task": {"pk": first(Task.objects.order_by("pk"))},
        "plans:review": {"pk": first(TaskReport.objects.order_by("pk"))},
        "plans:evidence": {"pk": first(Evidence.objects.order_by("pk"))},
        "plans:import": {"register": "van-ban"},
        "plans:plan": {"code": first(Plan.objects.order_by("pk"), "code")},
        "dossiers:detail": {"code": code},
        "dossiers:act": {"code": code},
        "dossiers:form": {"code": code, "purpose": "giay-hen"},
        "dossiers:file": {"code": code, "pk": first(StoredFile.objects.order_by("pk"))},
        "notifications:open": {"pk": first(Notification.objects.order_by("pk"))},
        "dashboard:agency": {"pk": agency},
        "dashboard:drill": {"code": "T7"},
        "imports:run": {"pk": first(ImportRun.objects.order_by("pk"))},
        "feedback_public:sent": {"code": feedback},
        "feedback_public:detail": {"code": feedback},
        "feedback_public:rate": {"code": feedback},
        "feedback:detail": {"code": feedback},
        "feedback:action": {"code": feedback},
        "portal:procedure": {"code": first(Procedure.objects.order_by("pk"), "code")},
        "portal:submit": {"code": first(Procedure.objects.order_by("pk"), "code")},
        "portal:dossier": {"code": code},
        "web:procedure": {"code": first(Procedure.objects.order_by("pk"), "code")},
        "web:agency": {"pk": agency},
        "web:agency_edit": {"pk": agency},
        "web:unit": {"pk": first(AdministrativeUnit.objects.order_by("pk"))},
        "payments:ipn": {"gateway": "vnpay"},
    }


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def fill(page: Page, values: dict[str, dict[str, str]]) -> str:
    known = values.get(page.name, {})

    def one(m: re.Match[str]) -> str:
        kind, name = m.group(1) or "str", m.group(2)
        return known.get(name) or ("1" if kind == "int" else "x")

    return "/" + _CONVERTER.sub(one, page.route)


# -- the module's data set ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data set, loaded once for the module and rolled back after it."""
    from django.db import transaction

    from cchc.demo.loader import load_demo

    with django_db_blocker.unblock(), transaction.atomic():
        load_demo(now=DEMO_NOW)
        yield
        transaction.set_rollback(True)


def _client(username: str | None) -> Client:
    """A browser signed in as `username` (None: anonymous); server errors are answered as
    the 500 page, as in production, instead of raised."""
    from cchc.accounts.models import User

    client = Client(raise_request_exception=False)
    if username:
        client.force_login(User.objects.get(username=username))
    return client


def _short(value: str) -> str:
    return repr(value if len(value) < 40 else value[:20] + f"…({len(value)})")


# Who browses. Each page is fuzzed one parameter at a time by the first of these accounts
# that can open it, and with every parameter at once by the other accounts that can open it
# (scope decides which branch of a view runs) and by the anonymous visitor (the door).
ACCOUNTS = ("quantri", "giamsat", "lanhdao", "motcua", "congdan")


def test_every_page_survives_hostile_query_values(demo, db):
    values = demo_path_values()
    clients = {who: _client(who) for who in (*ACCOUNTS, None)}
    failures: list[str] = []

    def check(who: str | None, url: str, params: dict[str, str]) -> int:
        response = clients[who].get(url, params)
        expected = response.status_code == 503 and url in NOT_READY_IS_AN_ANSWER
        if response.status_code >= 500 and not expected:
            shown = {k: _short(v) for k, v in params.items()}
            failures.append(f"{response.status_code} {who or 'khách'} GET {url} {shown}")
        return response.status_code

    for page in pages():
        url = fill(page, values)
        keys = sorted(query_keys(page.view)) or ["q"]
        deep = False
        for who in ACCOUNTS:
            if check(who, url, {}) != 200:
                continue  # refused at the door (the anonymous visitor covers it) or a 404
            if not deep:
                deep = True
                for key in keys:
                    for value in HOSTILE:
                        check(who, url, {key: value})
            else:
                for value in BROAD:
                    check(who, url, dict.fromkeys(keys, value))
        for value in HOSTILE:
            check(None, url, dict.fromkeys(keys, value))
    assert not failures, "\n".join(failures[:80])


# -- the API, against its own OpenAPI schema -----------------------------------------------------


@pytest.fixture
def in_test_transaction():
    """Keep the WSGI application from recycling the database connection at each request
    (it would close the test's transaction, as PostgreSQL shows); django.test.Client does
    the same."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(demo, db, in_test_transaction) -> dict[str, str]:
    """An administrator's API token (the widest API scope of the demo accounts)."""
    from django.utils import timezone

    from cchc.accounts import tokens
    from cchc.accounts.models import User

    admin = User.objects.get(username="quantri")
    issued = tokens.create_token(admin, admin, name="Kiểm thử fuzz", now=timezone.now())
    return {"Authorization": f"Bearer {issued.key}"}


def _api_tests() -> Callable[..., Any]:
    """One test per API operation, from the OpenAPI schema built from the code (so the
    docs-access setting does not matter), sent to the real WSGI application."""
    import schemathesis
    from django.core.wsgi import get_wsgi_application
    from hypothesis import HealthCheck, settings
    from schemathesis.checks import not_a_server_error

    from cchc.api.root import api

    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    application = get_wsgi_application()

    @settings(
        max_examples=15,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @schema.parametrize()
    def test_api_never_answers_a_server_error(case: Any, bearer: dict[str, str]) -> None:
        case.call_and_validate(headers=bearer, checks=[not_a_server_error], app=application)

    return test_api_never_answers_a_server_error


test_api_never_answers_a_server_error = _api_tests()


# -- the boundary, value by value --------------------------------------------------------------


def test_ids_past_64_bits_are_refused_with_a_message(demo, db):
    admin = _client("quantri")
    for url, label in (
        ("/chi-so/?unit=", "Đơn vị hành chính"),  # the dashboard shows it as a message
        ("/chi-so/chi-tiet/T7/?unit=", "Đơn vị hành chính"),
        ("/xuat-du-lieu/ho-so/?agency=", "Cơ quan"),
        ("/ke-hoach/nhiem-vu/?co_quan=", "Cơ quan chủ trì"),  # a 400 page
    ):
        response = admin.get(f"{url}{2**70}", follow=True)
        assert response.status_code in (200, 400), url
        assert f"{label} không hợp lệ: 1180591620717411303424" in response.content.decode(), url


def test_nul_bytes_are_refused_at_the_boundary(demo, db):
    admin = _client("quantri")
    page = admin.get("/co-quan/", {"q": "a\x00b"})
    assert page.status_code == 400
    assert "ký tự NUL" in page.content.decode()
    path = admin.get("/ho-so/a%00b/")
    assert path.status_code == 400
    form = admin.post("/thu-tuc/nhap/", {"dry_run": "on", "x": "\x00"})
    assert form.status_code == 400
    api = admin.post(
        "/api/dossiers/online",
        '{"desk": "a\\u0000b"}',
        content_type="application/json",
    )
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "invalid"
    assert "ký tự NUL" in api.json()["error"]["message"]
    # An escaped backslash followed by "u0000" is text, not a NUL: the API judges it.
    text = admin.post(
        "/api/dossiers/online", '{"desk": "a\\\\u0000b"}', content_type="application/json"
    )
    assert text.status_code == 422


def test_bodies_over_the_limit_answer_413(demo, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    admin = _client("quantri")
    api = admin.post(
        "/api/dossiers/online",
        '{"matter": "' + "x" * 20_000 + '"}',
        content_type="application/json",
    )
    assert api.status_code == 413
    assert set(api.json()) == {"error"}
    assert api.json()["error"]["code"] == "too_large"
    page = admin.post("/co-quan/1/sua/", {"address": "x" * 20_000})
    assert page.status_code == 413
    assert "Dữ liệu gửi lên quá lớn" in page.content.decode()


def test_progress_over_100_is_a_form_error_not_a_crash(demo, db):
    from cchc.accounts.models import User
    from cchc.plans.models import Task

    focal = User.objects.get(username="daumoi")
    task = Task.objects.filter(lead_agency_id=focal.roles.get().agency_id).order_by("pk").first()
    response = _client("daumoi").post(
        f"/ke-hoach/nhiem-vu/{task.pk}/", {"progress": "150", "note": "Đã làm", "period": ""}
    )
    assert response.status_code == 200
    assert "Tiến độ từ 0 đến 100%." in response.content.decode()
