"""The crawl (issue 17): signed in as each demo role, as the demo citizen and anonymously,
follow every same-site link reachable from the home page, breadth-first and bounded; no page
answers 5xx and no link is broken (404). Then, in Chromium at 375 px, the first pages of each
role's crawl are no wider than the phone (no sideways scrolling) and — once per kind of page —
have no serious or critical axe-core violation.

Bounded so that it stays a test, not a load: pages are grouped by their *shape* (the path
with every segment holding a digit written `{n}`, plus the names of the query parameters),
at most `PER_SHAPE` pages of a shape, `PER_PATH` of a path whatever its query, and
`PER_ROLE` pages per role are fetched. Skipped: signing out, file downloads (links marked
`download`, forms and receipts as PDF, exports, stored files), anything behind a POST form,
and in Django's admin the sorting, filtering, add, history and deletion pages (Django's own
code). Deeper runs: CCHC_CRAWL_PER_ROLE, CCHC_CRAWL_BROWSER_PAGES.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.test import Client

from tests.browser.fixtures import AXE
from tests.browser.fixtures import axe_violations as _axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PER_ROLE = int(os.environ.get("CCHC_CRAWL_PER_ROLE", "150"))
PER_SHAPE = 1
PER_PATH = 3  # pages of one path pattern, whatever their query (the dashboard's filters)
BROWSER_PAGES = int(os.environ.get("CCHC_CRAWL_BROWSER_PAGES", "8"))  # per role, at 375 px
STAFF = ["quantri", "kiemtra", "giamsat", "motcua", "thuly", "lanhdao", "daumoi", "thuly_xd"]
# Where each visitor starts: the home page (the portal's for the citizen and the public).
STARTS = {**{name: ["/"] for name in STAFF}, "congdan": ["/dich-vu-cong/"], "": ["/"]}
# Links that end a session, download a file or act: never followed.
SKIP = re.compile(
    r"/dang-xuat/|/logout/|/bieu-mau/|/tep/|/tai-ve/|/bien-lai/|/ket-qua/\d|/minh-chung/"
    r"|/xuat-du-lieu/|[?&](xuat|format)=|\.(pdf|csv|xlsx|docx|parquet|zip)$"
    r"|/gia-lap-thanh-toan/|/thanh-toan/ipn/|/dang-nhap/vneid/"
    # Django's admin: its index, each list and one record per model; not its sorting and
    # filtering links, empty add forms, history or deletion pages (Django's own code).
    r"|/admin/[^?]*\?|/admin/.+/(add|delete|history|password)/"
)
DIGIT = re.compile(r"\d")


class Links(HTMLParser):
    """The `href` of every `<a>` of a page, except downloads."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href") and "download" not in values:
            self.hrefs.append(values["href"] or "")


def shape(url: str) -> str:
    parts = urlsplit(url)
    path = "/".join("{n}" if DIGIT.search(p) else p for p in parts.path.split("/"))
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{path}?{'&'.join(keys)}"


def same_site(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    url = urlsplit(urljoin(base, href))
    if url.scheme not in ("", "http") or url.netloc not in ("", "testserver"):
        return None
    query = urlencode(parse_qsl(url.query, keep_blank_values=True))
    target = url.path + (f"?{query}" if query else "")
    return None if SKIP.search(target) else target


@dataclass
class Crawl:
    """What one visitor's crawl saw: pages in the order fetched, failures by kind."""

    who: str
    pages: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)


def crawl(client: Client, who: str, starts: list[str]) -> Crawl:
    seen: set[str] = set()
    per_shape: dict[str, int] = {}
    per_path: dict[str, int] = {}
    queue = deque((url, "(bắt đầu)") for url in starts)
    found = Crawl(who or "khách")
    while queue and len(found.pages) < PER_ROLE:
        url, origin = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        kind = shape(url)
        path = kind.partition("?")[0]
        if per_shape.get(kind, 0) >= PER_SHAPE or per_path.get(path, 0) >= PER_PATH:
            continue
        per_shape[kind] = per_shape.get(kind, 0) + 1
        per_path[path] = per_path.get(path, 0) + 1
        response = client.get(url)
        found.pages.append(url)
        if response.status_code >= 500:
            found.server_errors.append(f"{url} → {response.status_code} (từ {origin})")
            continue
        if response.status_code == 404:
            found.broken.append(f"{url} (liên kết trên {origin})")
            continue
        if response.status_code in (301, 302, 303, 307, 308):
            target = same_site(url, response["Location"])
            if target:
                queue.appendleft((target, url))
            continue
        content_type = response.get("Content-Type", "")
        if response.status_code != 200 or not content_type.startswith("text/html"):
            continue
        parser = Links()
        parser.feed(response.content.decode("utf-8", "replace"))
        for href in parser.hrefs:
            target = same_site(url, href)
            if target and target not in seen:
                queue.append((target, url))
    return found


# The innermost elements that reach past the right edge (what to fix, in the failure).
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > 376 && e.children.length === 0)
  .slice(0, 3)
  .map(e => e.tagName.toLowerCase()
            + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
            + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""


@pytest.fixture
def demo(settings):
    """The demo data set, as `cchc demo` loads it; administrators without the second factor
    (the crawl cannot read an authenticator; two-factor sign-in has its own tests)."""
    from django.utils import timezone

    from cchc.demo.loader import load_demo

    settings.CCHC_2FA_REQUIRED_ROLES = []
    started = time.monotonic()
    load_demo(now=timezone.now())
    return time.monotonic() - started


def test_every_reachable_page_answers_and_fits_a_phone(demo, page, live_server):
    from cchc.accounts.models import User

    assert AXE.exists(), "axe-core chưa được cài: chạy `make install` (npm ci)."
    crawls: list[Crawl] = []
    sessions: dict[str, str] = {}
    for who, starts in STARTS.items():
        client = Client()
        if who:
            client.force_login(User.objects.get(username=who))
            sessions[who] = client.cookies["sessionid"].value
        started = time.monotonic()
        crawls.append(crawl(client, who, starts))
        took = time.monotonic() - started
        print(f"crawl {who or 'khách'}: {len(crawls[-1].pages)} trang, {took:.1f} s")
    report = [
        f"{c.who}: {kind} {line}"
        for c in crawls
        for kind, lines in (("5xx", c.server_errors), ("404", c.broken))
        for line in lines
    ]
    counts = {c.who: len(c.pages) for c in crawls}
    assert all(n >= 3 for n in counts.values()), counts  # every visitor got somewhere
    assert report == [], "\n".join(report)

    # In Chromium at 375 px: the first pages of each crawl; axe once per shape.
    pg = page
    browser_started = time.monotonic()
    pg.set_viewport_size({"width": 375, "height": 812})
    checked: set[str] = set()
    problems: list[str] = []
    for c in crawls:
        pg.context.clear_cookies()
        who = "" if c.who == "khách" else c.who
        if who:
            pg.context.add_cookies(
                [{"name": "sessionid", "value": sessions[who], "url": live_server.url}]
            )
        for n, url in enumerate(c.pages[:BROWSER_PAGES]):
            response = pg.goto(url)
            if response is None or response.status >= 400:
                continue  # a 403 for a page a role may not open, already crawled above
            width = pg.evaluate("document.documentElement.scrollWidth")
            if width > 375:
                culprits = pg.evaluate(WIDEST)
                problems.append(f"{c.who}: {url} rộng {width}px ở màn hình 375px: {culprits}")
                pg.shot(f"{c.who}-too-wide")
            if n == 0:
                pg.shot(f"{c.who or 'khach'}-home-375")
            kind = shape(pg.url)
            if kind in checked:
                continue
            checked.add(kind)
            problems += [f"{c.who}: {url}: {v}" for v in _axe(pg)]
    print(f"trình duyệt: {time.monotonic() - browser_started:.1f} s, axe {len(checked)} trang")
    assert problems == [], "\n".join(problems)
