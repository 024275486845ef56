"""Citizens' single sign-on over OpenID Connect, end to end.

The portal's client (`cchc.portal.identity`, Authlib) does discovery, the token exchange,
the JWKS and userinfo over real HTTP against the simulated VNeID provider
(`cchc.nationalsim.oidc`) served by pytest-django's live server; the citizen's browser is a
`requests` session following the same redirects a browser would."""

from __future__ import annotations

import html
import re
import time
import urllib.parse
from typing import Any

import pytest
import requests
from django.urls import include, path

from cchc.urls import handler400, handler403, handler404, handler500  # noqa: F401
from cchc.urls import urlpatterns as site_urlpatterns

# This module is also the urlconf of its tests: the site plus the simulated provider, until
# the root urlconf includes `cchc.nationalsim.oidc_urls`.
urlpatterns = [path("", include("cchc.nationalsim.oidc_urls")), *site_urlpatterns]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db(transaction=True)]

CLIENT = {"client_id": "cchc-thu-nghiem", "client_secret": "bi-mat-thu-nghiem-123"}
REFUSED = "Mã xác thực do VNeID trả về không hợp lệ hoặc đã hết hạn"


@pytest.fixture(autouse=True)
def _sso(settings, tmp_path):
    from cchc.portal import identity

    settings.CCHC_VAR_DIR = tmp_path
    settings.CCHC_DVCQG_SIMULATOR = True
    identity.clear_caches()
    yield
    identity.clear_caches()


@pytest.fixture
def configured(settings, live_server):
    settings.VNEID = {**CLIENT, "issuer": live_server.url + "/gia-lap-dvcqg/oidc"}
    return settings.VNEID


def _hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", page):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
    return fields


def sso_login(
    live_server: Any,
    *,
    browser: requests.Session | None = None,
    citizen: str = "0",
    fault: str = "",
    action: str = "allow",
    start: str = "",
    **person: str,
) -> tuple[requests.Session, requests.Response]:
    """Press «Đăng nhập bằng VNeID», consent at the provider, come back: the final page."""
    browser = browser or requests.Session()
    begun = browser.get(
        live_server.url + "/dich-vu-cong/dang-nhap/vneid/" + start,
        allow_redirects=False,
        timeout=20,
    )
    assert begun.status_code == 302, begun.text[:500]
    target = begun.headers["Location"]
    assert target.startswith(live_server.url + "/gia-lap-dvcqg/oidc/authorize/"), target
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0] and "openid" in query["scope"][0]
    page = browser.get(target, timeout=20)
    assert page.status_code == 200 and "Định danh điện tử giả lập" in page.text
    form = {**_hidden_fields(page.text), "citizen": citizen, "fault": fault, "action": action}
    form.update(person)
    back = browser.post(target, data=form, allow_redirects=False, timeout=20)
    assert back.status_code == 302, back.text[:1000]
    assert back.headers["Location"].startswith(
        live_server.url + "/dich-vu-cong/dang-nhap/vneid/ve/"
    )
    return browser, browser.get(back.headers["Location"], timeout=30)


def _profile_of(username: str) -> Any:
    from cchc.portal.models import CitizenProfile

    return CitizenProfile.objects.select_related("user").get(user__username=username)


def _audit(action: str) -> list[Any]:
    from cchc.audit.models import AuditEntry

    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_first_login_creates_the_account_and_the_next_finds_it(live_server, configured):
    from cchc.portal import services
    from cchc.portal.models import CitizenProfile

    _, home = sso_login(live_server)
    assert home.status_code == 200 and home.url == live_server.url + "/dich-vu-cong/"
    assert "Nguyễn Văn An" in home.text
    profile = CitizenProfile.objects.select_related("user").get(id_number="001090000001")
    user = profile.user
    assert services.is_citizen(user) and not user.has_usable_password()
    assert profile.identity_provider == "vneid" and profile.identity_subject
    assert profile.identity_level == "2" and profile.last_sso_at is not None
    assert user.phone == "0912000001" and user.email == "an.nguyen@example.vn"
    [created] = _audit("portal.citizen.identity_linked")
    assert created.data["by"] == "created" and created.data["level"] == "2"
    first_at = profile.last_sso_at

    time.sleep(0.01)
    _, again = sso_login(live_server)  # another browser, the same person
    assert "Nguyễn Văn An" in again.text
    assert CitizenProfile.objects.filter(id_number="001090000001").count() == 1
    profile.refresh_from_db()
    assert profile.user_id == user.pk and profile.last_sso_at > first_at
    assert len(_audit("portal.citizen.sso_login")) == 1


def test_the_subject_finds_the_account_when_the_id_number_changes(live_server, configured):
    from cchc.portal.models import CitizenProfile

    person = {"name": "Phạm Thị Dung", "phone_number": "0911222333", "acr": "1", "sub": "s-42"}
    sso_login(live_server, citizen="khac", citizen_id="036190004444", **person)
    sso_login(live_server, citizen="khac", citizen_id="0361 9000 5555", **person)
    [profile] = CitizenProfile.objects.filter(identity_subject="s-42")
    # The national identity is authoritative for the number: the account follows it.
    assert profile.id_number == "036190005555" and profile.identity_level == "1"
    assert CitizenProfile.objects.filter(user__full_name="Phạm Thị Dung").count() == 1


def _registered_binh() -> Any:
    from cchc.portal import services

    return services.register_citizen(
        services.Registration(
            full_name="Trần Thị Bình",
            identifier="0987000002",
            password="Mat-khau-cong-dan-2024",
            id_number="024185000002",
        )
    )


def test_an_account_registered_with_the_same_id_number_is_not_linked_on_its_own(
    live_server, configured
):
    """The number typed at registration is not verified: whoever typed someone else's must
    not receive that person's VNeID login. The person gets their own account and is told how
    to link the registered one if it is theirs."""
    from cchc.portal.models import CitizenProfile

    squatter = _registered_binh()
    _, home = sso_login(live_server, citizen="1")  # the simulator's Trần Thị Bình, level 1
    assert "Trần Thị Bình" in home.text
    assert "Liên kết VNeID" in html.unescape(home.text)
    profiles = CitizenProfile.objects.filter(id_number="024185000002").order_by("pk")
    assert [p.user_id == squatter.pk for p in profiles] == [True, False]
    assert profiles[0].identity_subject == "" and profiles[1].identity_provider == "vneid"
    [created] = _audit("portal.citizen.identity_linked")
    assert created.data["by"] == "created"


def test_a_signed_in_citizen_links_their_account_to_vneid(live_server, configured):
    from cchc.portal.models import CitizenProfile

    mine = _registered_binh()
    browser = requests.Session()
    login = browser.get(live_server.url + "/dich-vu-cong/dang-nhap/", timeout=20)
    signed = browser.post(
        live_server.url + "/dich-vu-cong/dang-nhap/",
        data={
            **_hidden_fields(login.text),
            "username": "0987000002",
            "password": "Mat-khau-cong-dan-2024",
        },
        headers={"Referer": live_server.url + "/dich-vu-cong/dang-nhap/"},
        timeout=20,
    )
    assert signed.status_code == 200 and "Trần Thị Bình" in signed.text
    _, home = sso_login(live_server, browser=browser, citizen="1")
    assert "Đã liên kết tài khoản của bạn" in html.unescape(home.text)
    [profile] = CitizenProfile.objects.filter(id_number="024185000002")
    assert profile.user_id == mine.pk
    assert profile.identity_provider == "vneid" and profile.identity_level == "1"
    [linked] = _audit("portal.citizen.identity_linked")
    assert linked.data["by"] == "signed_in"
    # The account keeps its password: both ways in reach the same dossiers.
    mine.refresh_from_db()
    assert mine.has_usable_password()


@pytest.mark.parametrize("fault", ["signature", "aud", "nonce", "expired"])
def test_a_tampered_or_expired_id_token_is_refused(live_server, configured, fault):
    from cchc.portal.models import CitizenProfile

    browser, page = sso_login(live_server, fault=fault)
    assert page.status_code == 200
    assert page.url == live_server.url + "/dich-vu-cong/dang-nhap/"
    assert REFUSED in html.unescape(page.text)
    assert not CitizenProfile.objects.exists()
    home = browser.get(live_server.url + "/dich-vu-cong/", timeout=20)
    assert "Nguyễn Văn An" not in home.text


def test_a_token_signed_by_another_key_is_refused(live_server, configured):
    from joserfc import jwt
    from joserfc.jwk import OctKey, RSAKey

    from cchc.nationalsim import oidc
    from cchc.portal.identity import IdentityRefused, VNeIDProvider

    client = VNeIDProvider()
    now = int(time.time())
    claims = {
        "iss": client.issuer,
        "sub": "x",
        "aud": CLIENT["client_id"],
        "iat": now,
        "exp": now + 60,
        "nonce": "n-1",
    }
    good = oidc.sign(claims)
    assert client.verify_id_token(good, nonce="n-1")["sub"] == "x"
    with pytest.raises(IdentityRefused):
        client.verify_id_token(good, nonce="n-2")
    other = RSAKey.generate_key(2048, parameters={"kid": oidc.signing_key().kid}, private=True)
    forged = jwt.encode({"alg": "RS256", "kid": other.kid}, claims, other)
    with pytest.raises(IdentityRefused, match="không hợp lệ"):
        client.verify_id_token(forged, nonce="n-1")
    for changed in ({"iss": "http://khac.invalid"}, {"iat": now + 3600}, {"aud": ["a", "b"]}):
        with pytest.raises(IdentityRefused):
            client.verify_id_token(oidc.sign({**claims, **changed}), nonce="n-1")
    # Not RS256 (an HMAC keyed with the client secret): never accepted.
    hmac_signed = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(CLIENT["client_secret"]))
    with pytest.raises(IdentityRefused):
        client.verify_id_token(hmac_signed, nonce="n-1")


def test_client_secret_basic_and_the_default_simulator_client(live_server, settings):
    """Nothing configured + simulator on: the button works against the simulator (make run)."""
    settings.VNEID = {"auth_method": "client_secret_basic"}
    _, home = sso_login(live_server, citizen="2")
    assert "Lê Hoàng Cường" in home.text


def test_the_citizen_comes_back_where_they_were_going(live_server, configured):
    browser = requests.Session()
    login = browser.get(live_server.url + "/dich-vu-cong/ho-so/", timeout=20)
    assert login.url.startswith(live_server.url + "/dich-vu-cong/dang-nhap/?next=")
    assert "/dich-vu-cong/dang-nhap/vneid/?next=/dich-vu-cong/ho-so/" in html.unescape(
        login.text.replace("%2F", "/")
    )
    _, page = sso_login(live_server, browser=browser, start="?next=/dich-vu-cong/ho-so/")
    assert page.url == live_server.url + "/dich-vu-cong/ho-so/"
    _, elsewhere = sso_login(live_server, start="?next=https://evil.example/")
    assert elsewhere.url == live_server.url + "/dich-vu-cong/"


def test_a_refused_consent_or_a_forged_callback_does_not_log_in(live_server, configured):
    browser, page = sso_login(live_server, action="deny")
    assert page.url.endswith("/dich-vu-cong/dang-nhap/")
    assert "chưa đồng ý chia sẻ" in html.unescape(page.text)
    forged = browser.get(
        live_server.url + "/dich-vu-cong/dang-nhap/vneid/ve/?code=abc&state=xyz", timeout=20
    )
    assert forged.url.endswith("/dich-vu-cong/dang-nhap/")
    assert "không hợp lệ hoặc đã hết hạn" in html.unescape(forged.text)


def test_provider_down_says_so(live_server, client, settings, configured):
    settings.VNEID = {**CLIENT, "issuer": "http://127.0.0.1:9/oidc", "timeout": 2}
    page = client.get("/dich-vu-cong/dang-nhap/vneid/", follow=True)
    assert page.status_code == 200
    assert "Không kết nối được hệ thống định danh VNeID" in page.content.decode()

    # Down at the token exchange: the start worked, the exchange times out or is refused.
    settings.VNEID = {**configured, "token_url": "http://127.0.0.1:9/token", "timeout": 2}
    _, back = sso_login(live_server)
    assert back.url.endswith("/dich-vu-cong/dang-nhap/")
    assert "Không kết nối được hệ thống định danh VNeID" in html.unescape(back.text)


def test_the_provider_checks_pkce_client_and_single_use(live_server, configured):
    browser = requests.Session()
    start = browser.get(
        live_server.url + "/dich-vu-cong/dang-nhap/vneid/", allow_redirects=False, timeout=20
    )
    target = start.headers["Location"]
    page = browser.get(target, timeout=20)
    form = {**_hidden_fields(page.text), "citizen": "0", "action": "allow"}
    back = browser.post(target, data=form, allow_redirects=False, timeout=20)
    returned = urllib.parse.parse_qs(urllib.parse.urlsplit(back.headers["Location"]).query)
    token_url = live_server.url + "/gia-lap-dvcqg/oidc/token/"
    exchange = {
        "grant_type": "authorization_code",
        "code": returned["code"][0],
        "redirect_uri": form["redirect_uri"],
        **CLIENT,
    }
    wrong_secret = requests.post(token_url, data={**exchange, "client_secret": "sai"}, timeout=10)
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    no_pkce = requests.post(token_url, data={**exchange, "code_verifier": "x" * 50}, timeout=10)
    assert no_pkce.status_code == 400 and no_pkce.json()["error"] == "invalid_grant"
    # The code was spent by the refused attempt: the real callback cannot use it again.
    again = browser.get(back.headers["Location"], timeout=20)
    assert again.url.endswith("/dich-vu-cong/dang-nhap/")
    assert "không chấp nhận phiên đăng nhập" in html.unescape(again.text)


def test_the_provider_is_served_only_with_the_simulator(client, settings):
    settings.CCHC_DVCQG_SIMULATOR = False
    assert client.get("/gia-lap-dvcqg/oidc/.well-known/openid-configuration").status_code == 404
    settings.CCHC_DVCQG_SIMULATOR = True
    found = client.get("/gia-lap-dvcqg/oidc/.well-known/openid-configuration").json()
    assert found["issuer"] == "http://testserver/gia-lap-dvcqg/oidc"
    assert found["code_challenge_methods_supported"] == ["S256"]
    keys = client.get("/gia-lap-dvcqg/oidc/jwks/").json()["keys"]
    assert keys[0]["kty"] == "RSA" and "d" not in keys[0]


def test_login_page_shows_the_button_when_configured_or_simulated(client, settings):
    settings.VNEID = {}
    settings.CCHC_DVCQG_SIMULATOR = False
    assert "VNeID" not in client.get("/dich-vu-cong/dang-nhap/").content.decode()
    settings.CCHC_DVCQG_SIMULATOR = True
    assert "VNeID" in client.get("/dich-vu-cong/dang-nhap/").content.decode()
