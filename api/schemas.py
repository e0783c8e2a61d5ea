"""Request and response shapes; times are shown in the configured time zone (Asia/Shanghai) with their offset."""
from collections.abc import Mapping
from datetime import UTC
from zoneinfo import ZoneInfo

from flask import current_app
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, pre_load, validate

from engine.cases import attachments
from engine.indicators.definitions import COUNTERS
from engine.process.catalogue import SEVERITIES
from engine.read import drilldown, search, views
from engine.store import filetypes
from engine.store.model import TASK_STATUSES

MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL
UNSTORABLE = "Must be text without NUL characters (\\u0000) or unpaired surrogates (\\ud800-\\udfff)."


class Input(Schema):
    """Base of every request shape: text the database cannot store (NUL, lone surrogates) is refused by field."""

    @pre_load
    def _refuse_unstorable_text(self, data, **kwargs):
        if isinstance(data, Mapping):
            keys = {field.data_key or name for name, field in self.load_fields.items()}
            refused = {key: [UNSTORABLE] for key in keys if key in data and _unstorable(data[key])}
            if refused:
                raise ValidationError(refused)
        return data


def _unstorable(value) -> bool:
    """PostgreSQL refuses NUL in text, and a lone surrogate (JSON allows "\\ud800") cannot be encoded at all."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unstorable(v) for v in value)
    return False


class Text(fields.String):
    """Text with the whitespace around it removed before it is checked: a blank title is a missing one."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def text_length(most: int) -> list:
    """Required-and-not-blank plus a maximum, for a Text field."""
    return [validate.Length(min=1, error="Must not be blank."), validate.Length(max=most)]


class ErrorOut(Schema):
    """Every error answer (api/errors.py)."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    message = fields.String(required=True)
    errors = fields.Dict(required=True, metadata={"description": "messages by field, e.g. {\"title\": [\"...\"]}"})


class LocalDateTime(fields.DateTime):
    """An aware datetime written in the configured local time, e.g. 2026-11-28T20:47:00+08:00."""

    def _serialize(self, value, attr, obj, **kwargs):
        local = ZoneInfo(current_app.extensions["gridflow"].timezone)
        return None if value is None else value.astimezone(local).isoformat()


class ZonedDateTime(fields.AwareDateTime):
    """An ISO 8601 time with its offset or Z (a time without one is refused), read as UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+08:00 is before year 1 in UTC
            raise ValidationError("Out of range.") from exc


class SignIn(Input):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 200))


class TokenRequest(SignIn):
    name = fields.String(load_default="", validate=validate.Length(max=100),
                         metadata={"description": "what the token is for, e.g. 'phone'"})


class PasswordChange(Input):
    old_password = fields.String(required=True, validate=validate.Length(1, 200), metadata={
        "description": "my password now"})
    new_password = fields.String(required=True, validate=validate.Length(1, 200), metadata={
        "description": "8 to 200 characters, neither the current password nor the username"})


class PasswordChanged(Schema):
    tokens_revoked = fields.Integer(metadata={"description": "my other tokens and sessions, now signed out"})


class AccountStateOut(Schema):
    username = fields.String()
    active = fields.Boolean()
    tokens_revoked = fields.Integer(metadata={"description": "live tokens revoked by this change"})


class TokenResponse(Schema):
    id = fields.Integer()
    token = fields.String()
    token_type = fields.String()
    expires_at = LocalDateTime()


class TokenInfo(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = LocalDateTime()
    expires_at = LocalDateTime()


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    grid_code = fields.String(allow_none=True)
    grid_name = fields.String(allow_none=True)
    department_code = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)


class SessionResponse(Schema):
    csrf_token = fields.String()
    expires_at = LocalDateTime()
    user = fields.Nested(UserOut)


class Location(Input):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lng = fields.Float(required=True, validate=validate.Range(-180, 180))


class CaseCreate(Input):
    type = fields.String(required=True, validate=validate.Length(1, 40), metadata={"example": "dispute"})
    title = Text(required=True, validate=text_length(200), metadata={
        "example": "邻里噪音纠纷", "description": "1 to 200 characters after surrounding spaces are removed"})
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    severity = fields.String(load_default="medium", validate=validate.OneOf(SEVERITIES))
    subcategory = fields.String(load_default="", validate=validate.Length(max=40),
                                metadata={"description": "e.g. food (public health), farmland (illegal construction)"})
    grid_code = fields.String(validate=validate.Length(1, 32))
    location = fields.Nested(Location)


class FilingHeaders(Input):
    idempotency_key = fields.String(data_key="Idempotency-Key", validate=validate.Length(1, 100), metadata={
        "description": "a retry with the same key returns the first case, filing nothing twice"})


class Condition(Schema):
    field = fields.String()
    values = fields.List(fields.Raw())


class FormFieldOut(Schema):
    name = fields.String()
    kind = fields.String()
    title_zh = fields.String()
    title_en = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.String())
    max_length = fields.Integer()
    min_value = fields.Integer(metadata={"description": "for int fields: the smallest value allowed"})
    max_value = fields.Integer(metadata={"description": "for int fields: the largest value allowed"})
    required_when = fields.Nested(Condition, allow_none=True)


class TaskOut(Schema):
    id = fields.String()
    case_id = fields.Integer()
    case_number = fields.String()
    name = fields.String()
    title = fields.String()
    lane = fields.String(allow_none=True)
    role = fields.String()
    grid_code = fields.String()
    department_code = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    status = fields.String()
    created_at = LocalDateTime()
    claimed_at = LocalDateTime(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)
    due_at = LocalDateTime(allow_none=True)
    form = fields.List(fields.Nested(FormFieldOut))


class TaskDetailOut(TaskOut):
    actions = fields.List(fields.String(), metadata={
        "description": "what I may do with the task now: claim, complete, release, delegate, assign"})


class AssignIn(Input):
    username = fields.String(required=True, validate=validate.Length(1, 64),
                             metadata={"description": "a candidate for the task: its role, in its grid or department"})
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))


class DelegateIn(Input):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    reason = Text(required=True, validate=text_length(1000))


class CommentIn(Input):
    text = Text(required=True, validate=text_length(2000))


class CommentOut(Schema):
    seq = fields.Integer(metadata={"description": "the comment's place on the case's timeline"})
    at = LocalDateTime()
    actor = fields.String()
    text = fields.String()


class TimelineEventOut(Schema):
    seq = fields.Integer()
    at = LocalDateTime()
    actor = fields.String()
    kind = fields.String()
    task_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    payload = fields.Dict()
    hash = fields.String()


class Counters(Schema):
    returns = fields.Integer()
    reworks = fields.Integer()
    extensions = fields.Integer()
    escalations = fields.Integer()
    dissatisfied = fields.Integer()


class ClockOut(Schema):
    step = fields.String()
    policy = fields.String()
    amount = fields.Float()
    unit = fields.String()
    state = fields.String()
    started_at = LocalDateTime()
    due_at = LocalDateTime()
    breached_at = LocalDateTime(allow_none=True)
    stopped_at = LocalDateTime(allow_none=True)
    explanation = fields.Dict(metadata={"description": "why the case is due when it is: policy, calendar, "
                                                       "skipped days, pauses, extensions"})


class CaseFields(Schema):
    """What every answer about a case says of it."""

    id = fields.Integer()
    number = fields.String()
    type = fields.String()
    title = fields.String()
    severity = fields.String()
    status = fields.String()
    outcome = fields.String(allow_none=True)
    grid_code = fields.String()
    grid_name = fields.String()
    responsible_grid_code = fields.String()
    responsible_level = fields.Integer()
    reporter = fields.String()
    created_at = LocalDateTime()
    closed_at = LocalDateTime(allow_none=True)


class CaseOut(CaseFields):
    """A case with its open tasks, clocks and whole timeline."""

    description = fields.String()
    subcategory = fields.String()
    location = fields.Nested(Location, allow_none=True)
    updated_at = LocalDateTime()
    counters = fields.Nested(Counters)
    tasks = fields.List(fields.Nested(TaskOut))
    clocks = fields.List(fields.Nested(ClockOut))
    timeline = fields.List(fields.Nested(TimelineEventOut))


class PageQuery(Input):
    """Cursor pagination: the next page's cursor comes back in the X-Next-Cursor and Link headers."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200), metadata={"description": "rows per page"})
    cursor = fields.String(validate=validate.Length(1, 1000),
                           metadata={"description": "X-Next-Cursor of the previous page (with the same filters)"})


class CaseFilters(PageQuery):
    """Filters on the case, shared by task inboxes and case search."""

    type = fields.String(validate=validate.Length(1, 40), metadata={"description": "case type, e.g. dispute"})
    grid = fields.String(validate=validate.Length(1, 32),
                         metadata={"description": "grid code: cases reported in that grid or below it"})
    severity = fields.String(validate=validate.OneOf(SEVERITIES))


class TaskQuery(CaseFilters):
    scope = fields.String(load_default="inbox", validate=validate.OneOf(list(views.INBOX_SCOPES)),
                          metadata={"description": "inbox: assigned to me or open for me to claim; mine; "
                                                   "offered; visible: every task on cases I may see"})
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))
    department = fields.String(validate=validate.Length(1, 40), metadata={"description": "department code"})
    due_before = ZonedDateTime(metadata={"description": "due strictly before this time"})
    breached = fields.Boolean(metadata={"description": "true: past due now; false: not due yet or no limit"})
    sort = fields.String(load_default="due", validate=validate.OneOf(list(search.TASK_SORTS)),
                         metadata={"description": "due: overdue and soonest due first, tasks without a limit "
                                                  "last; created: oldest first; -created: newest first"})


class CaseQuery(CaseFilters):
    number = fields.String(validate=validate.Length(1, 40), metadata={"description": "a case number or its start"})
    q = fields.String(validate=validate.Length(1, 200),
                      metadata={"description": "text in the title or description, any letter case"})
    reporter = fields.String(validate=validate.Length(1, 64), metadata={"description": "the reporter's username"})
    status = fields.String(validate=validate.Length(1, 20), metadata={"example": "handling"})
    filed_from = ZonedDateTime(metadata={"description": "filed at or after this time"})
    filed_to = ZonedDateTime(metadata={"description": "filed before this time"})
    open = fields.Boolean(metadata={"description": "true: not closed yet; false: closed (any outcome)"})
    overdue = fields.Boolean(metadata={"description": "true: an open task of the case is past its due time now; "
                                                      "false: none is"})
    breached = fields.Boolean(metadata={"description": "true: a time limit of the case ran out (a breach was "
                                                       "recorded), open or closed since; false: none did"})
    counted = fields.String(validate=validate.OneOf(COUNTERS), metadata={
        "description": "the cases an indicator's counter counts (docs/indicators.md), e.g. closed_on_time: with "
                       "the grid, type, reporter, days and department of a number on the indicators, exactly the "
                       "cases behind it; each case found says how much it counts (`counted`)"})
    counted_from = fields.Date(metadata={"description": "with `counted`: counted on this local day or later"})
    counted_to = fields.Date(metadata={"description": "with `counted`: counted on this local day or earlier"})
    department = fields.String(validate=validate.Length(1, 40), metadata={
        "description": "a department code: cases whose handling went to it (with `counted`: counted for it); "
                       f"{drilldown.NO_DEPARTMENT}: counted under no department (never dispatched)"})
    sort = fields.String(load_default="-created", validate=validate.OneOf(list(search.CASE_SORTS)),
                         metadata={"description": "-created: newest first; created: oldest first"})


class CaseSummary(CaseFields):
    """A case in a list: enough to pick it, without its tasks and timeline."""

    next_due_at = LocalDateTime(allow_none=True, metadata={"description": "the soonest due time of its open tasks"})
    counted = fields.Float(metadata={
        "description": "with the `counted` filter only: how much the case counts for that counter on those days "
                       "(a case handled twice was due to handle twice); the cases' amounts add up to the number"})


class TaskComplete(Input):
    data = fields.Dict(keys=fields.String(), required=True)
    attachments = fields.List(
        fields.Integer(strict=True, validate=validate.Range(1, MAX_ID)), load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "ids of files uploaded to the case beforehand: the completion's evidence"})


class GridQuery(Input):
    parent = fields.String(validate=validate.Length(1, 32), metadata={"description": "parent grid code"})


class GridOut(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.Integer()
    level_name = fields.String()
    children = fields.Integer()


class GridDetail(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.Integer()
    level_name = fields.String()
    parent_code = fields.String(allow_none=True)
    ancestors = fields.List(fields.String())
    leader = fields.String(allow_none=True)
    polygon = fields.Dict(allow_none=True)


class GridPlaceCounts(Schema):
    """A grid with the counts of the cases reported in its subtree that I may see."""

    code = fields.String()
    name = fields.String()
    level = fields.Integer()
    level_name = fields.String()
    total = fields.Integer(metadata={"description": "every case: GET /cases?grid=<code>"})
    open = fields.Integer(metadata={"description": "not closed yet: GET /cases?grid=<code>&open=true"})
    overdue = fields.Integer(metadata={"description": "an open task past due now: GET /cases?grid=<code>&overdue=true"})
    breached = fields.Integer(metadata={"description": "a time limit ran out, open or closed since: "
                                                       "GET /cases?grid=<code>&breached=true"})


class GridCounts(GridPlaceCounts):
    """一张图: a grid in my area with its ancestors (from the top of my area) and its children, each counted."""

    ancestors = fields.List(fields.Dict(), metadata={"description": "[{code, name}] from the top of my area down"})
    children = fields.List(fields.Nested(GridPlaceCounts))


class Reason(Input):
    reason = Text(required=True, validate=text_length(1000))


class TimelineCheck(Schema):
    intact = fields.Boolean()
    events = fields.Integer(metadata={"description": "events found"})
    recorded = fields.Integer(metadata={"description": "events the case records having (its head)"})
    broken_at = fields.Integer(allow_none=True, metadata={
        "description": "seq of the first event that is changed, missing or out of place"})
    reason = fields.String(allow_none=True, metadata={"description": "what is wrong, e.g. 'event 7 is missing'"})


class AttachmentUpload(Input):
    file = Upload(required=True, metadata={"description": f"{filetypes.ALLOWED}; told by its bytes"})
    kind = fields.String(load_default="document", validate=validate.OneOf(attachments.KINDS),
                         metadata={"description": "report: with the report; evidence_before / evidence_after: "
                                                  "the place before and after handling; document: anything else"})
    task_id = fields.String(validate=validate.Length(1, 36),
                            metadata={"description": "an open task of the case you may act on: the file is its "
                                                     "evidence"})


class AttachmentOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    task_id = fields.String(allow_none=True, metadata={"description": "the task it is evidence for"})
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String(metadata={"description": "as read from the bytes"})
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String(metadata={"description": "hash of the bytes; the ETag of the content"})
    uploaded_by = fields.String()
    created_at = LocalDateTime()
