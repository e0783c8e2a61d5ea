"""The indicators (考核评价) in one place: the counters the rollup keeps, each indicator's numerator and
denominator, the composite score's default weights and the grades. docs/indicators.md explains each one.

Counters are summed over rollup rows (any grid subtree, department, case type, grid worker and span of days),
so every indicator is a ratio of two sums, an average of a sum over a count, or a count.
"""
from dataclasses import dataclass

# what the rollup keeps per (day, grid, department, case type, grid worker); docs/indicators.md says which
# event counts each one and on which day
COUNTERS = (
    "reported",            # 上报数: cases filed (day filed)
    "valid_reports",       # 有效上报数: of those, registered as valid (day filed)
    "reg_decided",         # 立案审核数: registration decisions taken (day decided)
    "registered",          # 立案数: decided valid (day decided)
    "registered_on_time",  # 按时立案数: decided valid within the registration limit
    "supervised",          # 督办数: registered cases that got a supervision order (day registered)
    "dispatched",          # 派遣数: dispatches done (day dispatched)
    "dispatched_on_time",  # 按时派遣数
    "due_to_handle",       # 应处置数: handling assignments settled or overdue (day settled, or day breached first)
    "handled",             # 处置数: assignments ended with the department's feedback
    "handled_on_time",     # 按时处置数
    "returned",            # 退回数: assignments the department returned
    "extended",            # 延期数: assignments with an approved extension
    "reworked",            # 返工数: handled assignments whose verification failed
    "handle_minutes",      # working minutes of handled assignments, suspension left out
    "due_to_close",        # 应结案数: cases closed (day closed), or open with the case limit breached (day breached)
    "closed",              # 结案数
    "closed_on_time",      # 按期结案数
    "close_minutes",       # working minutes from filing to closing of closed cases, suspension left out
    "overdue_open",        # 超期未办结数: open cases whose case limit is breached (day breached; read as "now")
    "follow_ups",          # 回访数 (day of the follow-up)
    "satisfied",           # 满意数
)
COUNTER_NAMES = {  # Chinese, for export headers and the page's count tables
    "reported": "上报数", "valid_reports": "有效上报数", "reg_decided": "立案审核数", "registered": "立案数",
    "registered_on_time": "按时立案数", "supervised": "督办数", "dispatched": "派遣数",
    "dispatched_on_time": "按时派遣数",
    "due_to_handle": "应处置数", "handled": "处置数", "handled_on_time": "按时处置数", "returned": "退回数",
    "extended": "延期数", "reworked": "返工数", "handle_minutes": "处置工时(分钟)", "due_to_close": "应结案数",
    "closed": "结案数", "closed_on_time": "按期结案数", "close_minutes": "办结工时(分钟)",
    "overdue_open": "超期未办结数", "follow_ups": "回访数", "satisfied": "满意数",
}
NOW_COUNTERS = ("overdue_open",)  # read over every day, whatever the period asked: a standing, not a flow


@dataclass(frozen=True)
class Indicator:
    code: str
    zh: str
    en: str
    numerator: str
    denominator: str | None  # None: a count
    kind: str = "rate"  # rate (0..1), hours (numerator minutes / denominator / 60), count
    better: str = "higher"  # which way is good; a "lower" rate enters the score as 1 - rate

    def value(self, sums: dict) -> float | None:
        top = sums.get(self.numerator, 0) or 0
        if self.denominator is None:
            return top
        bottom = sums.get(self.denominator, 0) or 0
        if not bottom:
            return None
        if self.kind == "hours":
            return round(top / bottom / 60, 2)
        return round(top / bottom, 4)


INDICATORS = (
    Indicator("register_on_time", "按时立案率", "Registered on time", "registered_on_time", "registered"),
    Indicator("dispatch_on_time", "按时派遣率", "Dispatched on time", "dispatched_on_time", "dispatched"),
    Indicator("handle_rate", "处置率", "Handled", "handled", "due_to_handle"),
    Indicator("handle_on_time", "按时处置率", "Handled on time", "handled_on_time", "due_to_handle"),
    Indicator("close_rate", "结案率", "Closed", "closed", "due_to_close"),
    Indicator("close_on_time", "按期结案率", "Closed on time", "closed_on_time", "due_to_close"),
    Indicator("rework_rate", "返工率", "Reworked", "reworked", "handled", better="lower"),
    Indicator("return_rate", "退回率", "Returned", "returned", "due_to_handle", better="lower"),
    Indicator("extension_rate", "延期率", "Extended", "extended", "due_to_handle", better="lower"),
    Indicator("supervision_rate", "督办率", "Supervised", "supervised", "registered", better="lower"),
    Indicator("satisfaction", "群众满意率", "Residents satisfied", "satisfied", "follow_ups"),
    Indicator("valid_report_rate", "有效上报率", "Valid reports", "valid_reports", "reported"),
    Indicator("handle_hours", "平均处置时长", "Average handling time", "handle_minutes", "handled", kind="hours",
              better="lower"),
    Indicator("close_hours", "平均办结时长", "Average time to close", "close_minutes", "closed", kind="hours",
              better="lower"),
    Indicator("overdue_open", "超期未办结件数", "Overdue and open now", "overdue_open", None, kind="count",
              better="lower"),
)
BY_CODE = {i.code: i for i in INDICATORS}

# the composite score's weights (settings: indicator_settings rows `weight.<code>` override them); only rates
# take part. They sum to 100; a rate whose denominator is zero for a row is left out and the rest re-weighed.
DEFAULT_WEIGHTS = {
    "close_on_time": 25.0, "close_rate": 15.0, "handle_on_time": 15.0, "dispatch_on_time": 10.0,
    "register_on_time": 10.0, "satisfaction": 10.0, "rework_rate": 5.0, "return_rate": 5.0,
    "valid_report_rate": 5.0,
}
DEFAULT_GRADES = {"A": 90.0, "B": 75.0, "C": 60.0, "D": 40.0}  # else E; settings `grade.<letter>`
SCORED = tuple(i.code for i in INDICATORS if i.kind == "rate")


def default_settings() -> dict[str, float]:
    return {**{f"weight.{c}": DEFAULT_WEIGHTS.get(c, 0.0) for c in SCORED},
            **{f"grade.{g}": v for g, v in DEFAULT_GRADES.items()}}


def values(sums: dict) -> dict:
    """Every indicator's value from summed counters (None where the denominator is zero)."""
    return {i.code: i.value(sums) for i in INDICATORS}


def score(vals: dict, settings: dict) -> float | None:
    """The weighted composite score, 0..100, over the rates that have a denominator; None if none has."""
    total = weight_sum = 0.0
    for code in SCORED:
        weight = float(settings.get(f"weight.{code}", 0) or 0)
        value = vals.get(code)
        if weight <= 0 or value is None:
            continue
        total += weight * (1 - value if BY_CODE[code].better == "lower" else value)
        weight_sum += weight
    return round(100 * total / weight_sum, 1) if weight_sum else None


def grade(points: float | None, settings: dict) -> str | None:
    if points is None:
        return None
    for letter in ("A", "B", "C", "D"):
        if points >= float(settings.get(f"grade.{letter}", DEFAULT_GRADES[letter])):
            return letter
    return "E"
