"""The simulated VNeID / national single sign-on provider (`cchc.nationalsim.oidc`); every
view answers 404 unless CCHC_DVCQG_SIMULATOR is on.

Included from the root urlconf with ``path("", include("cchc.nationalsim.oidc_urls"))``."""

from django.urls import path

from cchc.nationalsim import oidc

app_name = "nationalsim_oidc"

urlpatterns = [
    path(
        "gia-lap-dvcqg/oidc/.well-known/openid-configuration",
        oidc.discovery,
        name="discovery",
    ),
    path("gia-lap-dvcqg/oidc/jwks/", oidc.jwks, name="jwks"),
    path("gia-lap-dvcqg/oidc/authorize/", oidc.authorize, name="authorize"),
    path("gia-lap-dvcqg/oidc/token/", oidc.token, name="token"),
    path("gia-lap-dvcqg/oidc/userinfo/", oidc.userinfo, name="userinfo"),
]
