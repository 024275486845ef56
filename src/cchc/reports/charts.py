"""Report charts as PNG (matplotlib, Agg, no global pyplot state), embedded unchanged in the
Word file and the PDF. Text uses the embedded Noto Sans files, so Vietnamese diacritics
render the same on every machine; PNG metadata carries no version or time, so the same
figures give the same bytes.

A missing value (zero denominator) is drawn as no bar and labelled "Không có dữ liệu",
never as 0.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from cchc.reports.wording import number

FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONT_FILES = {"regular": "NotoSans-Regular.ttf", "bold": "NotoSans-Bold.ttf"}
RESULT = "#0b3c73"  # dark blue: results
TARGET = "#b3261e"  # dark red: targets
MAX = "#c4cbd4"  # grey: maximum points
INK = "#1d232b"
DPI = 150
NO_DATA = "Không có dữ liệu"


class ChartFontsMissing(RuntimeError):
    """Noto Sans is not installed (a deployment error): install fonts-noto-core."""


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | None
    target: Decimal | None = None


def _fonts() -> tuple[object, object]:
    # startup cost: matplotlib loads only when a chart is drawn
    from matplotlib.font_manager import FontProperties

    paths = {k: FONT_DIR / v for k, v in FONT_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ChartFontsMissing(
            "Không vẽ được biểu đồ: thiếu phông chữ Noto Sans (" + ", ".join(missing) + "). "
            "Cài gói fonts-noto-core."
        )
    return FontProperties(fname=paths["regular"]), FontProperties(fname=paths["bold"])


def _png(fig: object) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # startup cost: matplotlib

    FigureCanvasAgg(fig)  # type: ignore[arg-type]
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})  # type: ignore[attr-defined]
    return out.getvalue()


def _figure(width_in: float, height_in: float) -> object:
    from matplotlib.figure import Figure  # startup cost: matplotlib

    return Figure(figsize=(width_in, height_in), layout="constrained")


def _finish(
    fig: object, ax: Any, grid: str, handles: list[Any], title: str, *, below: float = -0.1
) -> bytes:
    """The frame every chart shares: value grid, no top/right spines, the legend centred
    under the plot, the title; then the PNG."""
    regular, bold = _fonts()
    ax.grid(axis=grid, color=MAX, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(
        handles=handles,
        prop=regular,
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, below),
        ncol=2,
        frameon=False,
    )
    ax.set_title(title, fontproperties=bold, fontsize=10, color=INK)
    return _png(fig)


def target_bars(bars: Sequence[Bar], *, title: str) -> bytes:
    """Horizontal bars: each target's result (blue) with the plan's target as a red tick."""
    regular, bold = _fonts()
    fig = _figure(7.2, 0.42 * len(bars) + 1.3)
    ax = fig.add_subplot()  # type: ignore[attr-defined]
    ys = list(range(len(bars)))[::-1]
    for y, bar in zip(ys, bars, strict=True):
        if bar.value is None:
            ax.text(1, y, NO_DATA, va="center", fontproperties=regular, fontsize=8, color=INK)
        else:
            v = float(bar.value)
            ax.barh(y, min(v, 100), height=0.6, color=RESULT)
            inside = v > 80
            ax.text(
                v - 1 if inside else v + 1,
                y,
                f"{number(bar.value)}%",
                va="center",
                ha="right" if inside else "left",
                fontproperties=bold,
                fontsize=8,
                color="white" if inside else INK,
            )
        if bar.target is not None:
            t = float(bar.target)
            ax.plot([t, t], [y - 0.4, y + 0.4], color=TARGET, linewidth=2.2)
    ax.set_yticks(ys, [b.label for b in bars])
    for label in ax.get_yticklabels():
        label.set_fontproperties(regular)
        label.set_fontsize(8.5)
    ax.set_xlim(0, 105)
    ax.set_xticks([0, 20, 40, 60, 80, 100], ["0", "20", "40", "60", "80", "100 %"])
    for label in ax.get_xticklabels():
        label.set_fontproperties(regular)
        label.set_fontsize(8)
    from matplotlib.lines import Line2D  # startup cost: matplotlib
    from matplotlib.patches import Patch  # startup cost: matplotlib

    handles = [
        Patch(color=RESULT, label="Kết quả trong kỳ"),
        Line2D([0], [0], color=TARGET, linewidth=2.2, label="Chỉ tiêu kế hoạch"),
    ]
    return _finish(fig, ax, "x", handles, title, below=-0.08)


def level_bars(bars: Sequence[Bar], *, title: str) -> bytes:
    """Vertical bars per level (cấp tỉnh, cấp huyện, cấp xã): result next to target."""
    regular, bold = _fonts()
    fig = _figure(6.4, 3.4)
    ax = fig.add_subplot()  # type: ignore[attr-defined]
    width = 0.36
    for x, bar in enumerate(bars):
        if bar.value is None:
            ax.text(x - width / 2, 2, NO_DATA, ha="center", fontproperties=regular, fontsize=7)
        else:
            ax.bar(x - width / 2, float(bar.value), width, color=RESULT)
            ax.text(
                x - width / 2,
                float(bar.value) + 1.5,
                f"{number(bar.value)}%",
                ha="center",
                fontproperties=bold,
                fontsize=8,
                color=INK,
            )
        if bar.target is not None:
            ax.bar(x + width / 2, float(bar.target), width, color=TARGET, alpha=0.85)
            ax.text(
                x + width / 2,
                float(bar.target) + 1.5,
                f"{number(bar.target)}%",
                ha="center",
                fontproperties=regular,
                fontsize=8,
                color=INK,
            )
    ax.set_xticks(range(len(bars)), [b.label for b in bars])
    for label in ax.get_xticklabels():
        label.set_fontproperties(regular)
        label.set_fontsize(9)
    ax.set_ylim(0, 112)
    ax.set_yticks([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100 %"])
    for label in ax.get_yticklabels():
        label.set_fontproperties(regular)
        label.set_fontsize(8)
    from matplotlib.patches import Patch  # startup cost: matplotlib

    handles = [
        Patch(color=RESULT, label="Kết quả trong kỳ"),
        Patch(color=TARGET, alpha=0.85, label="Chỉ tiêu kế hoạch"),
    ]
    return _finish(fig, ax, "y", handles, title)


def points_bars(bars: Sequence[Bar], *, title: str) -> bytes:
    """766 groups: points scored (blue) over the group's maximum (grey)."""
    regular, bold = _fonts()
    fig = _figure(7.2, 0.5 * len(bars) + 1.2)
    ax = fig.add_subplot()  # type: ignore[attr-defined]
    ys = list(range(len(bars)))[::-1]
    top = max([float(b.target or 0) for b in bars] + [1.0])
    for y, bar in zip(ys, bars, strict=True):
        if bar.target is not None:
            ax.barh(y, float(bar.target), height=0.6, color=MAX)
        score = float(bar.value or 0)
        ax.barh(y, score, height=0.6, color=RESULT)
        ax.text(
            float(bar.target or score) + top * 0.01,
            y,
            f"{number(bar.value)}/{number(bar.target)}",
            va="center",
            fontproperties=bold,
            fontsize=8,
            color=INK,
        )
    ax.set_yticks(ys, [b.label for b in bars])
    for label in ax.get_yticklabels():
        label.set_fontproperties(regular)
        label.set_fontsize(8.5)
    ax.set_xlim(0, top * 1.25)
    for label in ax.get_xticklabels():
        label.set_fontproperties(regular)
        label.set_fontsize(8)
    from matplotlib.patches import Patch  # startup cost: matplotlib

    handles = [
        Patch(color=RESULT, label="Điểm đạt"),
        Patch(color=MAX, label="Điểm tối đa của nhóm"),
    ]
    return _finish(fig, ax, "x", handles, title)
