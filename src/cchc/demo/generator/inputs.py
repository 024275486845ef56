"""What the caller gives the generator: who acts (`Staff`), the calibration of the mix
(`Profile`, with its intake `Seasonality`), and what it gets back (`Generated`); the
invented applicants' name parts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cchc import legaltime
from cchc.demo.generator.epochs import I64
from cchc.demo.generator.lifecycles import Lifecycle


@dataclass(frozen=True)
class Staff:
    """Who acts: desk officers of the desk, and per competent agency its processing officers
    and leaders (agency id -> users); citizens submit online (anonymous if none)."""

    desk_officers: Sequence[Any]
    officers: Mapping[int, Sequence[Any]]
    leaders: Mapping[int, Sequence[Any]]
    citizens: Sequence[Any] = ()


@dataclass(frozen=True)
class Seasonality:
    """Relative intake per receipt day: a factor per calendar month (January first), times
    a factor for the weeks around Tết (`tet_weeks`: (first day, last day, factor) with days
    counted from mùng 1 Tết), on working days of the desk's calendar only (holidays, Tết
    included, and weekends get nothing)."""

    months: tuple[float, ...] = (1.0,) * 12
    tet: dt.date | None = None
    tet_weeks: tuple[tuple[int, int, float], ...] = ()

    def weights(self, days: I64, cal: legaltime.Calendar) -> npt.NDArray[np.float64]:
        """Weight of each local day (days since 1970-01-01)."""
        epoch = dt.date(1970, 1, 1)
        out = np.zeros(days.size, dtype=np.float64)
        for i, number in enumerate(days.tolist()):
            day = epoch + dt.timedelta(days=number)
            if not cal.is_working_day(day):
                continue
            factor = self.months[day.month - 1]
            if self.tet is not None:
                offset = (day - self.tet).days
                for first, last, value in self.tet_weeks:
                    if first <= offset <= last:
                        factor *= value
            out[i] = factor
        return out


@dataclass(frozen=True)
class Profile:
    """Calibration of the generated mix (spec 04 figures; see `cchc.demo.scale`). The
    defaults reproduce the original generator draw for draw; every new behaviour is off.

    `channels` — shares of (direct, online, postal). With `online_needs_service`, the online
    share applies to the dossiers of procedures offering an online service (indicator T9's
    denominator); the others are direct or postal. `outcomes` — target shares of (early,
    on time, overdue) among finished dossiers (None: the original mix); a target that the
    timeline cannot give (early for a same-day procedure) falls to the next possible one.
    `weights` — lifecycle weights by name, overriding `Lifecycle.weight`. `zipf` — exponent
    of procedure popularity by rank in `procedures`. `intake` — receipt-day seasonality
    (None: uniform over all days, as originally). `digitised` — share of desk and postal
    dossiers whose components are scanned at intake (None: only online ones, as originally);
    `reused` — share of digitised dossiers reusing a document from the citizen's data store.
    `paid` — share of fee-bearing received dossiers whose fees are paid (a `pay` event with
    its receipt), `paid_online` — of those submitted online, the share paid through the
    gateway right after submission (the others pay cash at the desk on receipt). `rated` —
    share of returned dossiers with an applicant account that rate the service, `ratings` —
    shares of (satisfied, neutral, dissatisfied)."""

    channels: tuple[float, float, float] = (0.55, 0.4, 0.05)
    online_needs_service: bool = False
    outcomes: tuple[float, float, float] | None = None
    weights: Mapping[str, float] = field(default_factory=dict)
    zipf: float = 1.0
    intake: Seasonality | None = None
    digitised: float | None = None
    reused: float = 0.0
    paid: float = 0.0
    paid_online: float = 0.0
    rated: float = 0.0
    ratings: tuple[float, float, float] = (0.9, 0.08, 0.02)

    def weight(self, cycle: Lifecycle) -> float:
        return float(self.weights.get(cycle.name, cycle.weight))


DEFAULT_PROFILE = Profile()
RATINGS = ("satisfied", "neutral", "dissatisfied")


@dataclass
class Generated:
    dossiers: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    states: dict[str, int] = field(default_factory=dict)
    overdue_open: int = 0
    at_risk: int = 0
    first_id: int = 0
    last_id: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Giáp", "Thân", "Chu", "Đào")  # fmt: skip
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Thu", "Minh", "Ngọc", "Quang", "Thanh", "Xuân", "Hồng")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Hương",
         "Khánh", "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Phong", "Phương", "Quân",
         "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tuấn", "Yến")  # fmt: skip
COMPANY = ("Công ty TNHH {} Bắc Giang", "Công ty cổ phần {} Kinh Bắc", "Hợp tác xã {}")
TRADE = ("Xây dựng Hưng Thịnh", "Thương mại Minh Phát", "Vận tải Đông Bắc", "Nông sản Lục Ngạn",
         "Dịch vụ An Khang", "Cơ khí Việt Yên")  # fmt: skip
STREETS = ("Hoàng Văn Thụ", "Nguyễn Văn Cừ", "Lê Lợi", "Trần Phú", "Ngô Gia Tự", "Xương Giang")
