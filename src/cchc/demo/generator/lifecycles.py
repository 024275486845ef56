"""The shapes of a generated dossier's life (lifecycles), the reasons officers give, who
takes each action and the state it leads to — as the services' transition table has it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cchc.dossiers import payloads
from cchc.dossiers.models import State


@dataclass(frozen=True)
class Lifecycle:
    """One shape of a dossier's life: the actions after `submit`, in order."""

    name: str
    actions: tuple[str, ...]
    finished: bool
    weight: float  # share among the finished (or among the open) dossiers
    online_only: bool = False
    fallback: str = ""  # used when the timeline does not fit (too recent, too short)


FINISHED = (
    Lifecycle("returned", ("receive", "assign", "propose", "approve", "return_result"), True, 0.78),
    Lifecycle(
        "returned_supplement",
        (
            "receive",
            "assign",
            "request_supplement",
            "supplement_received",
            "propose",
            "approve",
            "return_result",
        ),
        True,
        0.08,
    ),
    Lifecycle(
        "returned_obligation",
        (
            "receive",
            "assign",
            "request_obligation",
            "obligation_met",
            "propose",
            "approve",
            "return_result",
        ),
        True,
        0.03,
    ),
    Lifecycle(
        "returned_apology",
        ("receive", "assign", "apologise", "propose", "approve", "return_result"),
        True,
        0.005,
        fallback="returned",
    ),
    Lifecycle("resolved", ("receive", "assign", "propose", "approve"), True, 0.025),
    Lifecycle("refused", ("receive", "assign", "refuse"), True, 0.025),
    Lifecycle("refused_at_intake", ("refuse_intake",), True, 0.02, online_only=True),
    Lifecycle("withdrawn", ("receive", "withdraw"), True, 0.01),
    Lifecycle("stopped", ("receive", "assign", "request_supplement", "stop"), True, 0.005),
)
OPEN = (
    Lifecycle("submitted", (), False, 0.08, online_only=True),
    Lifecycle("received", ("receive",), False, 0.12),
    Lifecycle("in_progress", ("receive", "assign"), False, 0.42, fallback="received"),
    Lifecycle(
        "in_progress_supplemented",
        ("receive", "assign", "request_supplement", "supplement_received"),
        False,
        0.06,
        fallback="received",
    ),
    Lifecycle(
        "awaiting_approval", ("receive", "assign", "propose"), False, 0.15, fallback="received"
    ),
    Lifecycle(
        "awaiting_supplement",
        ("receive", "assign", "request_supplement"),
        False,
        0.1,
        fallback="received",
    ),
    Lifecycle(
        "awaiting_obligation",
        ("receive", "assign", "request_obligation"),
        False,
        0.05,
        fallback="received",
    ),
    Lifecycle(
        "open_apology", ("receive", "assign", "apologise"), False, 0.02, fallback="in_progress"
    ),
)
LIFECYCLES = FINISHED + OPEN
BY_NAME = {c.name: c for c in LIFECYCLES}
INDEX = {c.name: i for i, c in enumerate(LIFECYCLES)}
MAX_EVENTS = 1 + max(len(c.actions) for c in LIFECYCLES)

REASONS = {
    "refuse_intake": (
        "Hồ sơ không thuộc thẩm quyền tiếp nhận của cơ quan.",
        "Hồ sơ trực tuyến thiếu bản chụp giấy tờ bắt buộc.",
    ),
    "request_supplement": (
        "Đề nghị bổ sung bản sao giấy tờ tùy thân còn hiệu lực.",
        "Tờ khai chưa ghi đầy đủ thông tin; đề nghị hoàn thiện.",
        "Đề nghị bổ sung văn bản ủy quyền có chứng thực.",
    ),
    "request_obligation": ("Chờ người nộp nộp lệ phí, thuế theo thông báo.",),
    "refuse": ("Không đủ điều kiện theo quy định của pháp luật.",),
    "stop": ("Người nộp không bổ sung hồ sơ trong thời hạn quy định.",),
    "withdraw": ("Người nộp đề nghị rút hồ sơ.",),
    "apologise": ("Hồ sơ cần xác minh thêm tại cơ quan liên quan.",),
}
DESK_ACTIONS = frozenset(
    {"receive", "refuse_intake", "supplement_received", "obligation_met", "return_result",
     "withdraw"}
)  # fmt: skip
LEADER_ACTIONS = frozenset({"assign", "approve", "refuse", "stop"})
NEXT_STATE = {
    "submit": State.SUBMITTED,
    "receive": State.RECEIVED,
    "refuse_intake": State.REFUSED_AT_INTAKE,
    "assign": State.IN_PROGRESS,
    "request_supplement": State.AWAITING_SUPPLEMENT,
    "supplement_received": State.IN_PROGRESS,
    "request_obligation": State.AWAITING_OBLIGATION,
    "obligation_met": State.IN_PROGRESS,
    "propose": State.AWAITING_APPROVAL,
    "approve": State.RESOLVED,
    "return_result": State.RETURNED,
    "refuse": State.REFUSED,
    "stop": State.STOPPED,
    "withdraw": State.WITHDRAWN,
    "apologise": None,
}


def steps_after(actions: Sequence[str], steps: int) -> list[int | None]:
    """The `step` each action writes in its data (None: no step), by the step rules of
    `dossiers.payloads` that `services._prepare` applies, for a procedure with `steps`
    internal steps."""
    index = 0
    out: list[int | None] = []
    state = State.SUBMITTED
    for action in actions:
        step: int | None = None
        if action == "assign" and state == State.RECEIVED:
            step = payloads.handoff_step(index, steps)
        elif action == "approve":
            step = payloads.approve_step(steps)
        elif action == "propose":
            step = payloads.clamp_step(payloads.propose_step(index, steps), steps)
        if step is not None:
            index = step
        out.append(step)
        state = NEXT_STATE[action] or state
    return out
