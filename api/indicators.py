"""Indicators (考核评价): the scoped tables with 环比 and 同比, rankings, CSV and XLSX, and the score's settings."""
from zoneinfo import ZoneInfo

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from api import errors, indicator_export
from api.context import Blueprint, authenticate, deps, user
from api.schemas import Input
from engine.errors import AuthenticationError, NotFoundError, PermissionDenied, ValidationError
from engine.indicators import definitions as d
from engine.indicators import rollup
from engine.read import indicators as ri
from engine.store.model import User

blp = Blueprint("indicators", __name__, url_prefix="/api/v1/indicators", description="Indicators (考核评价)")
blp.before_request(authenticate)

FORMATS = ("json", "csv", "xlsx")
RANK_LEVELS = {"town": "town", "department": "department", "worker": "worker", "village": "village",
               "grid": "grid"}
EXPORT_DOC = {"responses": {"200": {"content": {  # besides the JSON: the same table as a file (`format`)
    "application/json": {"schema": {"$ref": "#/components/schemas/IndicatorReport"}},
    indicator_export.CSV_TYPE.split(";")[0]: {"schema": {"type": "string"}},
    indicator_export.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}}


class IndicatorQuery(Input):
    grid = fields.String(validate=validate.Length(1, 32), metadata={
        "description": "a grid code: its subtree (yours by default; another town's is not found)"})
    department = fields.String(validate=validate.Length(1, 40), metadata={"description": "a department code"})
    type = fields.String(validate=validate.Length(1, 40), metadata={"description": "a case type code"})
    worker = fields.String(validate=validate.Length(1, 64), metadata={"description": "a grid worker's username"})
    period = fields.String(load_default="month", validate=validate.OneOf(ri.PERIODS))
    date = fields.Date(metadata={"description": "a day in the period (today by default, Asia/Shanghai)"})
    from_ = fields.Date(data_key="from", metadata={"description": "an explicit span's first day (with `to`)"})
    to = fields.Date(metadata={"description": "an explicit span's last day, inclusive"})
    by = fields.String(load_default="child", validate=validate.OneOf(ri.BY), metadata={
        "description": "grouping: child (the next grid level down), town, village, grid, unit, department, type, "
                       "worker, month, day or none"})
    compare = fields.Boolean(load_default=True, metadata={"description": "add 环比 (previous) and 同比 (last_year)"})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class RankingQuery(IndicatorQuery):
    level = fields.String(load_default="town", validate=validate.OneOf(tuple(RANK_LEVELS)), metadata={
        "description": "what is ranked: towns, villages, grids, departments or grid workers"})


class Comparison(Schema):
    values = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))
    score = fields.Float(allow_none=True)
    change = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), metadata={
        "description": "this period's value minus the other's (rates as fractions)"})


class IndicatorRow(Schema):
    key = fields.Raw(metadata={"description": "the group's key (a code, a user id, a month)"})
    code = fields.String()
    label = fields.String()
    rank = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Float(), metadata={
        "description": "the counters summed over the rollup (docs/indicators.md)"})
    values = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), metadata={
        "description": "each indicator: rates as fractions, times in working hours, counts; null: no denominator"})
    score = fields.Float(allow_none=True, metadata={"description": "the composite score, 0-100"})
    grade = fields.String(allow_none=True, metadata={"description": "A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E"})
    previous = fields.Nested(Comparison, metadata={"description": "环比: the period before"})
    last_year = fields.Nested(Comparison, metadata={"description": "同比: the same period a year earlier"})


class Definition(Schema):
    code = fields.String()
    zh = fields.String()
    en = fields.String()
    numerator = fields.String()
    denominator = fields.String(allow_none=True)
    kind = fields.String()
    better = fields.String()


class IndicatorReport(Schema):
    start = fields.Date()
    end = fields.Date()
    grid = fields.Dict()
    by = fields.String()
    total = fields.Nested(IndicatorRow)
    rows = fields.List(fields.Nested(IndicatorRow))
    definitions = fields.List(fields.Nested(Definition))
    settings = fields.Dict(keys=fields.String(), values=fields.Float())


class SettingsBody(Input):
    settings = fields.Dict(keys=fields.String(validate=validate.Length(1, 60)), values=fields.Float(
        allow_nan=False), required=True, metadata={"description": "`weight.<indicator>` and `grade.<A-D>`, 0-100"})


class SettingsOut(Schema):
    settings = fields.Dict(keys=fields.String(), values=fields.Float())


def query_of(args: dict, session) -> ri.Query:
    worker = None
    if args.get("worker"):
        worker = session.scalar(select(User.id).where(User.username == args["worker"]))
        if worker is None:
            raise ValidationError("unknown worker", {"worker": [f"No user {args['worker']!r}."]})
    return ri.Query(grid=args.get("grid"), department=args.get("department"), case_type=args.get("type"),
                    worker=worker, period=args["period"], at=args.get("date"), start=args.get("from_"),
                    end=args.get("to"), by=args["by"], compare=args["compare"])


def report(args: dict, ranked_by: str | None = None) -> dict:
    engine = deps()
    rollup.catch_up(engine, rollup.FOR_A_READER)  # what was just done is in the numbers
    with engine.uow() as uow:
        q = query_of(args, uow.session)
        if ranked_by:
            q.by = ranked_by
        result = ri.run(uow.session, user(), q, engine.clock.now().astimezone(_zone(engine)).date(),
                        engine.catalogue)
        rows = result.rows
        if ranked_by:
            if ranked_by == "worker":
                rows = ri.workers_only(uow.session, rows)
            result.rows = ri.ranking(ri.Result(result.span, result.grid, result.by, rows, result.total))
    return result


def _zone(engine):
    return ZoneInfo(engine.timezone)


def answer(result, args: dict, ranked: bool = False):
    if args["format"] == "json":
        return {"start": result.span.start, "end": result.span.end, "grid": result.grid, "by": result.by,
                "total": result.total, "rows": result.rows, "settings": result.settings,
                "definitions": [vars(i) for i in d.INDICATORS]}
    cells = indicator_export.table(result.rows, None if ranked else result.total, ranked)
    if args["format"] == "csv":
        body, mime = indicator_export.to_csv(cells), indicator_export.CSV_TYPE
    else:
        body, mime = indicator_export.to_xlsx(cells, result.grid["name"]), indicator_export.XLSX_TYPE
    name = indicator_export.filename(result.span, result.grid["code"], args["format"])
    return Response(body, mimetype=mime.split(";")[0], headers={
        "Content-Disposition": f'attachment; filename="{name}"'}, content_type=mime)


@blp.route("")
class Indicators(MethodView):
    @blp.arguments(IndicatorQuery, location="query")
    @blp.response(200, IndicatorReport)
    @blp.doc(**EXPORT_DOC)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ValidationError)
    def get(self, args):
        """Every indicator for a grid subtree (yours by default), period and filters, grouped by `by`, with 环比
        and 同比; `format=csv` or `xlsx` gives the same table as a file (Chinese headers, numbers as numbers)."""
        return answer(report(args), args)


@blp.route("/ranking")
class Ranking(MethodView):
    @blp.arguments(RankingQuery, location="query")
    @blp.response(200, IndicatorReport)
    @blp.doc(**EXPORT_DOC)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ValidationError)
    def get(self, args):
        """排名: towns, villages, grids, departments or grid workers within your scope, by composite score."""
        return answer(report(args, RANK_LEVELS[args["level"]]), args, ranked=True)


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, SettingsOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied)
    def get(self):
        """The composite score's weights and grade thresholds."""
        ri.check_reader(user())
        with deps().uow() as uow:
            return {"settings": ri.settings(uow.session)}

    @blp.arguments(SettingsBody)
    @blp.response(200, SettingsOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, ValidationError, *errors.JSON_BODY)
    def put(self, body):
        """Admins change weights (`weight.<indicator>`) and grades (`grade.A`...); the rest stay as they are."""
        if user().role != "admin":
            raise PermissionDenied("only an admin changes the indicators' settings")
        with deps().uow() as uow:
            merged = ri.save_settings(uow.session, body["settings"])
            uow.commit()
        return {"settings": merged}
