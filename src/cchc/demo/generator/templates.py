"""JSON templates of event payloads, made once from the payload builders of
`cchc.dossiers.payloads`: the generator fills millions of payloads with `%` formatting
(measured faster than building a dict and encoding it each time) while the shape — keys,
their order, constant values — stays the builders' own."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class Hole:
    """A variable part of a template: `d` an integer, `s` text put inside a JSON string
    as is (codes, numbers: nothing to escape), `j` a value already encoded as JSON."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


INT, TEXT, JSON = Hole("d"), Hole("s"), Hole("j")


class Template:
    """`build(**arguments)` encoded as JSON (as `json.dumps` does), with a `%(name)…`
    placeholder where an argument is a `Hole`; calling it with the holes' values gives
    the payload's JSON text."""

    def __init__(self, build: Callable[..., dict[str, Any]], /, **arguments: Any) -> None:
        holes = {name: v.kind for name, v in arguments.items() if isinstance(v, Hole)}
        values = {name: f"\x00{name}\x00" if name in holes else v for name, v in arguments.items()}
        text = json.dumps(build(**values)).replace("%", "%%")
        for name, kind in holes.items():
            inner = json.dumps(f"\x00{name}\x00")[1:-1]
            spot = inner if kind == "s" else f'"{inner}"'
            if text.count(spot) != 1:
                raise ValueError(f"hole {name} does not appear once in {text}")
            text = text.replace(spot, f"%({name}){'d' if kind == 'd' else 's'}")
        self.text = text

    def __call__(self, **values: Any) -> str:
        return self.text % values
