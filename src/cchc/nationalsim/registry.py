"""The simulator's services by name: each module of the simulator registers the services it
answers (`@service("DongBoHoSoMC")`); `views.api` dispatches a call to its handler.

A handler takes the call's JSON body (a dict; ``session`` already checked) and returns the
answer's ``result``, or raises `Refusal` for an answer with a non-zero ``error_code``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {}


class Refusal(Exception):
    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


def service(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register
