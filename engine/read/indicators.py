"""Indicators as read by the API and the 统计 page: sums over the rollup (engine/indicators/), never a recount.

A query names a grid subtree (by default the caller's own; a supervisor asking for a grid outside it gets
"not found"), optionally a department, a case type and a grid worker, a period (day, week, month, quarter or
year containing a date, or an explicit from/to), and a grouping (`by`). Spans made of whole months read the
monthly rollup, other spans the daily one. Each row and the total carry the counters, every indicator, the
composite score and grade, and the same for the period before (环比) and the same period a year earlier (同比).
"""
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import String, func, select

from engine.errors import NotFoundError, PermissionDenied, ValidationError
from engine.indicators import definitions as d
from engine.store.model import (
    Department,
    Grid,
    IndicatorDaily,
    IndicatorMonthly,
    IndicatorSetting,
    IndicatorTownMonthly,
    User,
)

PERIODS = ("day", "week", "month", "quarter", "year")
LEVEL_OF = {"town": 1, "village": 2, "grid": 3, "unit": 4}
BY = ("child", "town", "village", "grid", "unit", "department", "type", "worker", "month", "day", "none")
READERS = ("supervisor", "admin")
FIRST_YEAR, LAST_YEAR = 2000, 2999  # a period, the one before it and a year before: all real dates


@dataclass
class Query:
    grid: str | None = None
    department: str | None = None
    case_type: str | None = None
    worker: int | None = None
    period: str = "month"
    at: date | None = None
    start: date | None = None
    end: date | None = None
    by: str = "child"
    compare: bool = True


@dataclass
class Span:
    start: date
    end: date  # inclusive

    @property
    def monthly(self) -> bool:
        return self.start.day == 1 and self.end.day == monthrange(self.end.year, self.end.month)[1]

    def before(self) -> "Span":
        """环比: the span of the same kind just before (a month before a month, a quarter before a quarter...)."""
        if self.monthly:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            start = _add_months(self.start, -months)
            return Span(start, _add_months(self.start, 0) - timedelta(days=1))
        length = (self.end - self.start).days + 1
        return Span(self.start - timedelta(days=length), self.start - timedelta(days=1))

    def year_before(self) -> "Span":
        """同比: the same dates a year earlier (29 February becomes the 28th)."""
        return Span(_year_back(self.start), _year_back(self.end))


def span_of(period: str, at: date) -> Span:
    if period == "day":
        return Span(at, at)
    if period == "week":
        start = at - timedelta(days=at.weekday())
        return Span(start, start + timedelta(days=6))
    if period == "month":
        return Span(at.replace(day=1), at.replace(day=monthrange(at.year, at.month)[1]))
    if period == "quarter":
        first = (at.month - 1) // 3 * 3 + 1
        start = date(at.year, first, 1)
        last = _add_months(start, 3) - timedelta(days=1)
        return Span(start, last)
    if period == "year":
        return Span(date(at.year, 1, 1), date(at.year, 12, 31))
    raise ValidationError("unknown period", {"period": [f"Must be one of: {', '.join(PERIODS)}."]})


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass
class Result:
    span: Span
    grid: dict
    by: str
    rows: list = field(default_factory=list)
    total: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


def settings(session) -> dict:
    """The score's weights and grade thresholds: the defaults, overridden by the admins' rows."""
    values = d.default_settings()
    values.update({row.name: row.value for row in session.scalars(select(IndicatorSetting))})
    return values


def save_settings(session, changes: dict) -> dict:
    """Set weights (0..100) and grade thresholds (0..100, A ≥ B ≥ C ≥ D); unknown names are refused."""
    known = d.default_settings()
    errors = {name: ["Unknown setting."] for name in changes if name not in known}
    for name, value in changes.items():
        if name in known and not (isinstance(value, (int, float)) and 0 <= value <= 100):
            errors[name] = ["Must be a number from 0 to 100."]
    merged = {**settings(session), **{k: float(v) for k, v in changes.items() if k not in errors}}
    grades = [merged[f"grade.{g}"] for g in "ABCD"]
    if not errors and grades != sorted(grades, reverse=True):
        errors["grade.A"] = ["Grade thresholds must fall from A to D."]
    if not errors and not any(merged[f"weight.{c}"] > 0 for c in d.SCORED):
        errors["weight.close_on_time"] = ["At least one weight must be above zero."]
    if errors:
        raise ValidationError("invalid settings", errors)
    for name, value in changes.items():
        row = session.get(IndicatorSetting, name)
        if row is None:
            session.add(IndicatorSetting(name=name, value=float(value)))
        else:
            row.value = float(value)
    return merged


def check_reader(user: User) -> None:
    if user.role not in READERS:
        raise PermissionDenied("only supervisors and admins read the indicators")


def home(session, user: User) -> Grid:
    """The grid a reader starts from: their own grid (the city for an admin without one)."""
    if user.grid_id:
        return session.get(Grid, user.grid_id)
    return session.scalar(select(Grid).where(Grid.level == 0).order_by(Grid.id).limit(1))


def scoped_grid(session, user: User, code: str | None) -> Grid:
    """The grid asked for, if the user may read it; anything outside their subtree is not found."""
    check_reader(user)
    base = home(session, user)
    if base is None:
        raise NotFoundError("no grids yet")
    if not code:
        return base
    grid = session.scalar(select(Grid).where(Grid.code == code))
    if grid is None or (user.role != "admin" and not grid.path.startswith(base.path)):
        raise NotFoundError(f"no grid with code {code!r}", {"grid": ["Unknown grid code."]})
    return grid


def run(session, user: User, q: Query, today: date, catalogue: dict) -> Result:
    """The indicators for the query, grouped as `q.by` says, with 环比 and 同比 when `q.compare`."""
    grid = scoped_grid(session, user, q.grid)
    if q.by not in BY:
        raise ValidationError("unknown grouping", {"by": [f"Must be one of: {', '.join(BY)}."]})
    if q.case_type and q.case_type not in catalogue:
        raise ValidationError("unknown case type", {"type": [f"Must be one of: {', '.join(catalogue)}."]})
    if q.department and session.scalar(select(Department.id).where(Department.code == q.department)) is None:
        raise ValidationError("unknown department", {"department": [f"No department with code {q.department!r}."]})
    for name, value in (("date", q.at), ("from", q.start), ("to", q.end)):
        if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValidationError("date out of range", {name: [f"Must be a date from {FIRST_YEAR} to {LAST_YEAR}."]})
    if q.start or q.end:
        if not (q.start and q.end):
            raise ValidationError("give both ends", {"from" if not q.start else "to": ["Give both from and to."]})
        if q.end < q.start or (q.end - q.start).days > 366 * 5:
            raise ValidationError("bad span", {"to": ["Must be on or after from, at most five years later."]})
        span = Span(q.start, q.end)
    else:
        span = span_of(q.period, q.at or today)
    tree = _tree(session, grid)
    by = q.by
    if by == "child":
        by = next((name for name, level in LEVEL_OF.items() if level == grid.level + 1), "none")
    conf = settings(session)
    current = _sums(session, q, grid, tree, span, by)
    now = _now_sums(session, q, grid, tree, by)
    previous = _sums(session, q, grid, tree, span.before(), by) if q.compare else {}
    last_year = _sums(session, q, grid, tree, span.year_before(), by) if q.compare else {}
    labels = _labels(session, by, set(current) | set(now), tree, catalogue)
    keys = sorted(set(current) | set(now), key=lambda k: (str(labels.get(k, {}).get("sort", k)), str(k)))
    rows = [_row(k, labels.get(k, {"label": str(k)}), current.get(k, {}), now.get(k, {}), previous.get(k),
                 last_year.get(k), conf) for k in keys]
    total = _row("total", {"label": grid.name}, _add_all(current.values()), _add_all(now.values()),
                 _add_all(previous.values()) if q.compare else None,
                 _add_all(last_year.values()) if q.compare else None, conf)
    return Result(span=span, grid={"code": grid.code, "name": grid.name, "level": grid.level, "path": grid.path},
                  by=by, rows=rows, total=total, settings=conf)


def ranking(result: Result) -> list[dict]:
    """The rows ranked by score (highest first; rows without a score last), with their places (排名)."""
    ranked = sorted(result.rows, key=lambda r: (r["score"] is None, -(r["score"] or 0), r["label"]))
    place, last = 0, object()
    for i, row in enumerate(ranked, 1):
        if row["score"] != last:
            place, last = i, row["score"]
        row["rank"] = place
    return ranked


def _row(key, label: dict, sums: dict, now: dict, previous: dict | None, last_year: dict | None, conf) -> dict:
    sums = {**{c: 0 for c in d.COUNTERS}, **sums, "overdue_open": now.get("overdue_open", 0)}
    vals = d.values(sums)
    points = d.score(vals, conf)
    out = {"key": key, **label, "counts": sums, "values": vals, "score": points, "grade": d.grade(points, conf)}
    for name, other in (("previous", previous), ("last_year", last_year)):
        if other is not None:
            other_vals = d.values({**{c: 0 for c in d.COUNTERS}, **other})
            out[name] = {"values": other_vals, "score": d.score(other_vals, conf),
                         "change": {c: _change(vals[c], other_vals[c]) for c in vals if c not in d.NOW_COUNTERS}}
    return out


def _change(now, before):
    if now is None or before is None:
        return None
    return round(now - before, 4)


def _add_all(many) -> dict:
    total: dict = {}
    for sums in many:
        for c, v in sums.items():
            total[c] = total.get(c, 0) + v
    return total


def _tree(session, grid: Grid) -> dict:
    """The subtree's grids: id -> (path codes, level, code, name). Kept per process and read again only when the
    grid tree changed (count, newest id and total path length, one aggregate query, as the GPS index does)."""
    stamp = tuple(session.execute(select(func.count(Grid.id), func.max(Grid.id),
                                         func.sum(func.length(Grid.path)))).one())
    key = (str(session.get_bind().url), grid.path)
    found = _TREES.get(key)
    if found is None or found[0] != stamp:
        rows = session.execute(select(Grid.id, Grid.path, Grid.level, Grid.code, Grid.name)
                               .where(Grid.path.startswith(grid.path, autoescape=True))).all()
        if len(_TREES) > 256:
            _TREES.clear()
        found = _TREES[key] = (stamp, {r.id: (r.path.strip("/").split("/"), r.level, r.code, r.name)
                                       for r in rows})
    return found[1]


_TREES: dict = {}


def _where(table, q: Query, grid: Grid, tree: dict) -> list:
    where = []
    if grid.level > 0:
        where.append(table.grid_id.in_(list(tree)))
    if q.department is not None:
        where.append(table.department == q.department)
    if q.case_type is not None:
        where.append(table.case_type == q.case_type)
    if q.worker is not None:
        where.append(table.worker_id == q.worker)
    return where


def _group_column(table, by: str):
    if by == "department":
        return table.department
    if by == "type":
        return table.case_type
    if by == "worker":
        return table.worker_id
    if by in LEVEL_OF:
        return table.grid_id
    if by == "month":
        return table.month if table is IndicatorMonthly else func.substr(func.cast(table.day, String), 1, 7)
    if by == "day":
        return table.day
    return None


TOWN_GROUPS = ("town", "department", "type", "month", "none")


def _sums(session, q: Query, grid: Grid, tree: dict, span: Span, by: str) -> dict:
    if span.monthly and q.worker is None and grid.level <= 1 and by in TOWN_GROUPS:
        return _town_sums(session, q, grid, tree, span, by)
    table = IndicatorMonthly if span.monthly and by != "day" else IndicatorDaily
    period = table.month if table is IndicatorMonthly else table.day
    where = [period >= (span.start if table is IndicatorDaily else span.start.replace(day=1)), period <= span.end,
             *_where(table, q, grid, tree)]
    return _grouped(session, table, where, by, tree, skip=d.NOW_COUNTERS)


def _town_sums(session, q: Query, grid: Grid, tree: dict, span: Span, by: str) -> dict:
    """Whole months of the city or a town, by town, department, type or month: the town rollup."""
    table = IndicatorTownMonthly
    where = [table.month >= span.start, table.month <= span.end]
    if grid.level == 1:
        where.append(table.town_id == grid.id)
    if q.department is not None:
        where.append(table.department == q.department)
    if q.case_type is not None:
        where.append(table.case_type == q.case_type)
    column = {"town": table.town_id, "department": table.department, "type": table.case_type,
              "month": table.month}.get(by)
    sums = _grouped(session, table, where, "raw" if by == "town" else by, tree, skip=d.NOW_COUNTERS,
                    column=column)
    if by != "town":
        return sums
    return {tree[town_id][2]: counts for town_id, counts in sums.items() if town_id in tree}


def _now_sums(session, q: Query, grid: Grid, tree: dict, by: str) -> dict:
    """超期未办结: over every day, as it stands now (only rows with some, through a partial index)."""
    table = IndicatorMonthly
    if by in ("month", "day"):
        return {}
    where = [table.overdue_open > 0, *_where(table, q, grid, tree)]
    return _grouped(session, table, where, by, tree, only=d.NOW_COUNTERS)


def _grouped(session, table, where, by, tree, skip=(), only=None, column=None) -> dict:
    counters = [c for c in (only or d.COUNTERS) if c not in skip]
    column = column if column is not None else _group_column(table, by)
    columns = [func.sum(getattr(table, c)).label(c) for c in counters]
    query = select(*([column.label("g")] if column is not None else []), *columns).where(*where)
    if column is not None:
        query = query.group_by(column)
    out: dict = {}
    for row in session.execute(query):
        key = row.g if column is not None else "all"
        if by in LEVEL_OF:
            key = _ancestor(tree, key, LEVEL_OF[by])
            if key is None:
                continue
        elif by == "month" and hasattr(key, "strftime"):
            key = key.strftime("%Y-%m")
        elif by == "day" and hasattr(key, "isoformat"):
            key = key.isoformat()
        sums = out.setdefault(key, {})
        for c in counters:
            value = getattr(row, c) or 0
            sums[c] = sums.get(c, 0) + (float(value) if c.endswith("minutes") else int(value))
    return out


def _ancestor(tree: dict, grid_id: int, level: int):
    """The code of the grid's ancestor at `level` (None for a case reported above that level)."""
    found = tree.get(grid_id)
    if found is None or found[1] < level:
        return None
    return found[0][level]


def _labels(session, by: str, keys: set, tree: dict, catalogue: dict) -> dict:
    if by in LEVEL_OF:
        names = {code: name for _codes, _level, code, name in tree.values()}
        return {k: {"label": names.get(k, k), "code": k, "sort": k} for k in keys}
    if by == "department":
        named = dict(session.execute(select(Department.code, Department.name)
                                     .where(Department.code.in_([k for k in keys if k]))).all())
        return {k: {"label": named.get(k, k) if k else "", "code": k, "sort": k or "~"} for k in keys}
    if by == "worker":
        named = {r.id: r for r in session.execute(select(User.id, User.display_name, User.username, User.role)
                                                 .where(User.id.in_(list(keys))))}
        return {k: {"label": named[k].display_name if k in named else str(k),
                    "code": named[k].username if k in named else str(k), "sort": k} for k in keys}
    if by == "type":
        return {k: {"label": catalogue[k].title_zh if k in catalogue else k, "code": k, "sort": k} for k in keys}
    return {k: {"label": str(k), "code": str(k), "sort": str(k)} for k in keys}


def workers_only(session, rows: list[dict]) -> list[dict]:
    """Of rows grouped by worker, those of grid workers (leaders and admins also report)."""
    ids = [r["key"] for r in rows]
    workers = set(session.scalars(select(User.id).where(User.id.in_(ids), User.role == "grid_worker")))
    return [r for r in rows if r["key"] in workers]


