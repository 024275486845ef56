"""The Permissions-Policy header: browser features no cchc page uses are switched off for
the page and anything it embeds, so an injected script cannot reach the camera, the
microphone, the location or a payment sheet.

Django's SecurityMiddleware does not write this header (Django 5.2), hence this middleware.
Only feature names Chromium recognises are listed: an unknown name makes it log an error
for every page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

HEADER = "Permissions-Policy"
# fullscreen stays allowed for our own pages (a PDF preview may use it); everything else off.
DISABLED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
POLICY = ", ".join([*(f"{name}=()" for name in DISABLED_FEATURES), "fullscreen=(self)"])


class PermissionsPolicyMiddleware:
    """Add `Permissions-Policy` to every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = POLICY
        return response
