"""Server-rendered inline SVG charts (no JavaScript): a responsive viewBox, large type and
high-contrast colours so the chart reads on a projector and on a 375 px phone. Missing data
is a gap in the line, never a zero."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe, high-contrast palette (Okabe–Ito, darkened) and a dash per series so
# series differ by more than colour.
COLOURS = ("#0b3c73", "#b3261e", "#1b6e3a", "#7a4a00", "#5b2a86")
DASHES = ("", "10 6", "3 5", "14 4 3 4", "2 2")
WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 44, 24, 64


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[str, Decimal | None]]  # (x label, value) in order


def fmt(value: Decimal | float | None) -> str:
    if value is None:
        return "không có dữ liệu"
    return f"{float(value):.1f}".replace(".", ",")


def _n(value: float) -> str:
    return f"{value:.1f}"


def label_positions(count: int, most: int = 7) -> list[int]:
    """Which x labels to write: at most `most`, evenly spaced, always the first and the last
    point; a regular label too close to the last one is left out, so two labels never
    overlap ("thg 11" and "thg 12" side by side did at twelve months)."""
    if count <= 0:
        return []
    every = max(1, -(-count // most))  # ceiling: at most `most` regular labels
    chosen = list(range(0, count, every))
    last = count - 1
    if chosen[-1] != last:
        if last - chosen[-1] < every:
            chosen.pop()
        chosen.append(last)
    return chosen


def line_chart(series: Sequence[Series], *, title: str, unit: str = "%") -> SafeString:
    labels = [x for x, _ in series[0].points] if series else []
    values = [float(v) for s in series for _, v in s.points if v is not None]
    top = 100.0 if unit == "%" else max([*values, 1.0]) * 1.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step if len(labels) > 1 else LEFT + plot_w / 2

    def y(v: float) -> float:
        return TOP + plot_h - (v / top) * plot_h

    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
            'preserveAspectRatio="xMidYMid meet" font-size="20">',
            WIDTH,
            HEIGHT + 30 * len(series),
            title,
        ),
        format_html("<title>{}</title>", title),
    ]
    for tick in range(0, 5):
        v = top * tick / 4
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#c4cbd4" stroke-width="1"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="#1d232b">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                _n(y(v)),
                _n(y(v)),
                LEFT - 8,
                _n(y(v) + 6),
                f"{v:.0f}",
            )
        )
    for i in label_positions(len(labels)):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="#1d232b">{}</text>',
                _n(x(i)),
                HEIGHT - BOTTOM + 28,
                labels[i],
            )
        )
    for n, s in enumerate(series):
        colour, dash = COLOURS[n % len(COLOURS)], DASHES[n % len(DASHES)]
        runs: list[list[tuple[float, float]]] = [[]]
        for i, (_, v) in enumerate(s.points):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((x(i), y(float(v))))
        for run in runs:
            if len(run) > 1:
                parts.append(
                    format_html(
                        '<polyline fill="none" stroke="{}" stroke-width="4" '
                        'stroke-dasharray="{}" points="{}"/>',
                        colour,
                        dash,
                        " ".join(f"{px:.1f},{py:.1f}" for px, py in run),
                    )
                )
        for i, (xl, v) in enumerate(s.points):
            if v is not None:
                parts.append(
                    format_html(
                        '<circle cx="{}" cy="{}" r="6" fill="{}">'
                        "<title>{} — {}: {} {}</title></circle>",
                        _n(x(i)),
                        _n(y(float(v))),
                        colour,
                        s.label,
                        xl,
                        fmt(v),
                        unit,
                    )
                )
        lx = 8.0
        ly = HEIGHT + 30 * n
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="4" '
                'stroke-dasharray="{}"/><text x="{}" y="{}" fill="#1d232b">{}</text>',
                _n(lx),
                _n(lx + 36),
                ly - 6,
                ly - 6,
                colour,
                dash,
                _n(lx + 44),
                ly,
                s.label,
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - every piece escaped above
