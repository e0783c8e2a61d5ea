"""Tables. Models hold data only: they never query, read config or call now()."""
import zlib
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

OPEN_TASK = ("open", "claimed")  # a task that someone still has to do
TASK_STATUSES = (*OPEN_TASK, "completed", "cancelled")
OPEN_TASK_SQL = "status IN ('open', 'claimed')"


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class CompressedText(TypeDecorator):
    """Text kept zlib-compressed in a binary column. A case's saved workflow is JSON full of repeated keys and
    task ids: 13 KB compress to about 2 KB in 0.03 ms (level 1; higher levels gain 10% for four times the time)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else zlib.compress(value.encode("utf-8"), 1)

    def process_result_value(self, value, dialect):
        return None if value is None else zlib.decompress(value).decode("utf-8")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON}


class Grid(Base):
    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int]  # 0 city, 1 town, 2 village (level-1 grid), 3 level-2 grid, 4 unit grid
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    path: Mapped[str] = mapped_column(String(400), index=True)  # "/city/town/.../self/"
    polygon: Mapped[str | None] = mapped_column(Text)  # GeoJSON geometry (WGS 84 lng/lat)
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_grids_leader_id_users"))


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))  # judicial, police, market, health, ...
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))  # jurisdiction: this grid's subtree


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(10))  # the pages' language the user chose; None: the browser's


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="", server_default="")  # "phone", "script"...
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A failed sign-in, kept to slow down password guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_username_at", "username", "at"),
                      Index("ix_login_failures_address_at", "address", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class ProcessVersion(Base):
    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_id", "content_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(80))
    content_hash: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict] = mapped_column(deferred=True)  # file name -> XML text; read only to parse a version
    deployed_at: Mapped[datetime]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_type", "status", "type"),
        Index("ix_cases_responsible_status", "responsible_grid_id", "status"),
        Index("ix_cases_grid_created", "grid_id", "created_at"),  # search by place, newest first
        Index("ix_cases_reporter_created", "reporter_id", "created_at"),  # "my reports"
        Index("ix_cases_indicators_behind", "id", postgresql_where=text("timeline_seq > indicator_seq"),
              sqlite_where=text("timeline_seq > indicator_seq")),  # the rollup's work list
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20))
    subcategory: Mapped[str] = mapped_column(String(40), default="", server_default="")
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    responsible_grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    responsible_level: Mapped[int]
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(40))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    state: Mapped[str] = mapped_column(CompressedText)  # serialized workflow, without its spec
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    returns: Mapped[int] = mapped_column(default=0)
    reworks: Mapped[int] = mapped_column(default=0)
    extensions: Mapped[int] = mapped_column(default=0)
    escalations: Mapped[int] = mapped_column(default=0)
    dissatisfied: Mapped[int] = mapped_column(default=0, server_default="0")
    # the timeline's head, moved with every event (engine/store/timeline.py): last seq, its hash, their seal
    timeline_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    timeline_hash: Mapped[str | None] = mapped_column(String(64))
    timeline_seal: Mapped[str | None] = mapped_column(String(64))
    # the last event the indicators' rollup has counted (engine/indicators/rollup.py): a case whose timeline has
    # gone past it waits in a small partial index for the worker to fold its new events in
    indicator_seq: Mapped[int] = mapped_column(default=0, server_default="0")

    process_version: Mapped[ProcessVersion] = relationship()
    __mapper_args__ = {"version_id_col": version}


class CaseCounter(Base):
    """The last sequence number given out per number prefix (town code + date)."""

    __tablename__ = "case_counters"
    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int]


class Task(Base):
    """A work item: the projection of one READY (or once READY) manual task of a case's workflow."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_department_status_due", "department_id", "status", "due_at"),
        Index("ix_tasks_assignee_status", "assignee_id", "status"),
        Index("ix_tasks_grid_status", "grid_id", "status"),
        # inboxes list open tasks overdue first: a page is the first rows of this index that pass the scope
        Index("ix_tasks_open_due", "due_at", "created_at", "id", sqlite_where=text(OPEN_TASK_SQL),
              postgresql_where=text(OPEN_TASK_SQL)),
        # ... and a grid leader's, grid by grid (engine/people/access.offered_parts)
        Index("ix_tasks_open_grid_due", "grid_id", "due_at", "created_at", "id", sqlite_where=text(OPEN_TASK_SQL),
              postgresql_where=text(OPEN_TASK_SQL)),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the workflow task's uuid
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(80))
    candidate_role: Mapped[str] = mapped_column(String(20))
    department_kind: Mapped[str | None] = mapped_column(String(40))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20))  # open, claimed, completed, cancelled
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime | None]

    @hybrid_property
    def is_open(self) -> bool:
        """Open or claimed: in Python on a row, and as a WHERE clause on the class."""
        return self.status in OPEN_TASK

    @is_open.inplace.expression
    @classmethod
    def _is_open_clause(cls):
        return cls.status.in_(OPEN_TASK)


PENDING = "fired_at IS NULL AND cancelled_at IS NULL"


class Deadline(Base):
    """A moment the engine must act at. The database, not the queue, is the source of truth."""

    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("case_id", "key"),
        UniqueConstraint("assignment_id", "key", name="uq_deadlines_assignment_id_key"),
        Index("ix_deadlines_due_pending", "due_at", sqlite_where=text(PENDING),
              postgresql_where=text(PENDING)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)  # a case's, or else
    assignment_id: Mapped[int | None] = mapped_column(  # a campaign assignment's (engine/campaigns/alarms.py)
        ForeignKey("campaign_assignments.id", name="fk_deadlines_assignment_id_campaign_assignments"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    clock_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_clocks.id", name="fk_deadlines_clock_id_sla_clocks"), index=True)
    fraction: Mapped[float | None] = mapped_column(Float)  # of the clock's limit, for warnings and breaches
    key: Mapped[str] = mapped_column(String(120))  # stable within a case, e.g. "timer:<task uuid>"
    kind: Mapped[str] = mapped_column(String(20))  # timer, warning, breach, supervision; reminder, overdue
    name: Mapped[str] = mapped_column(String(80))
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    leased_until: Mapped[datetime | None]  # a worker has taken it to fire until then (engine/deadlines/firing.py)


class IdempotencyKey(Base):
    """A client's retry key for a filing: the same key from the same user returns the first case."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime]


class SlaClock(Base):
    """A time limit running for a step (a task name) or for the whole case, in business time."""

    __tablename__ = "sla_clocks"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    step: Mapped[str] = mapped_column(String(80))  # a task name, or "case"
    amount: Mapped[float]
    unit: Mapped[str] = mapped_column(String(20))
    policy: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    generation: Mapped[int] = mapped_column(default=0)  # bumped whenever the due time moves
    explanation: Mapped[dict]


class SupervisionOrder(Base):
    """督办: issued when a limit is breached, with a deadline of its own for the answer."""

    __tablename__ = "supervision_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    clock_id: Mapped[int | None] = mapped_column(ForeignKey("sla_clocks.id"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))  # the level that supervises
    reason: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))  # open, answered
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """An in-app notice for one user (warnings, breaches, supervision orders)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))  # a case's notice, or else
    assignment_id: Mapped[int | None] = mapped_column(  # a campaign assignment's
        ForeignKey("campaign_assignments.id", name="fk_notifications_assignment_id_campaign_assignments"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Holiday(Base):
    """An admin's override of the official calendar: a holiday, or a make-up working day."""

    __tablename__ = "holidays"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # holiday, workday
    name: Mapped[str] = mapped_column(String(100), default="")


class TimelineEvent(Base):
    """One append-only entry in a case's history, sealed with the hash of the one before (engine/store/timeline.py)."""

    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int]
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))  # username, or "system"
    kind: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 under the timeline key, not a plain sha256


class Attachment(Base):
    """A photo or document kept on a case, its bytes in the blob store under their sha256."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id"), index=True)  # evidence of a completion
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # report, evidence_before, evidence_after, document
    filename: Mapped[str] = mapped_column(String(255))  # as sent, cleaned
    content_type: Mapped[str] = mapped_column(String(100))  # from the bytes, not from the client
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class PartnerKey(Base):
    """An outside system's key for Open311 intake: stored as sha256, filing as one user into one grid area."""

    __tablename__ = "partner_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner: Mapped[str] = mapped_column(String(100))  # e.g. "12345 热线"
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the key's first characters, to tell keys apart
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # its reports are filed as this user
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))  # the area it may report into (a subtree)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class WebhookEndpoint(Base):
    """Where case events are sent, signed with the endpoint's secret."""

    __tablename__ = "webhook_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))  # the HMAC key: needed in clear to sign
    events: Mapped[list] = mapped_column(JSON)  # event types, e.g. ["case.filed", "case.closed"]
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))  # only cases in this subtree
    status: Mapped[str] = mapped_column(String(20))  # active, paused
    paused_at: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class WebhookEvent(Base):
    """The outbox: a case event to send, written in the transaction of the change that caused it."""

    __tablename__ = "webhook_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict]
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event for one endpoint: pending until the endpoint answers 2xx, retried with backoff."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next", "status", "next_at"),
        Index("ix_webhook_deliveries_line", "endpoint_id", "case_id", "status", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    case_id: Mapped[int] = mapped_column(Integer)  # the event's case: deliveries to an endpoint keep its order
    status: Mapped[str] = mapped_column(String(20))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_at: Mapped[datetime]
    leased_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_at: Mapped[datetime | None]
    response_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]

    event: Mapped[WebhookEvent] = relationship()


class Campaign(Base):
    """A top-down task (摸排, 排查, 筛查) sent to every grid of a level under a subtree, or to chosen grids."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    form: Mapped[list] = mapped_column(JSON)  # [{name, kind, title_zh, title_en, required, choices, ...}]
    root_grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)  # whose subtree it covers
    target_level: Mapped[int | None]  # every grid of this level under the root; None: the chosen grids
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # a department's campaign
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    working_days: Mapped[int]
    due_at: Mapped[datetime]
    recurrence: Mapped[str | None] = mapped_column(String(20))  # weekly, monthly
    round: Mapped[int] = mapped_column(default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))  # the round before
    next_round_at: Mapped[datetime | None]  # when the worker launches the next round
    status: Mapped[str] = mapped_column(String(20))  # open, cancelled, finished
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))


class Assignment(Base):
    """A campaign's work for one grid, run through its own small workflow (bpmn/campaign/)."""

    __tablename__ = "campaign_assignments"
    __table_args__ = (UniqueConstraint("campaign_id", "grid_id"),
                      Index("ix_campaign_assignments_grid_status", "grid_id", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    path: Mapped[str] = mapped_column(String(400))  # the grid's path, for roll-ups by level
    status: Mapped[str] = mapped_column(String(20))  # issued, accepted, submitted, returned, approved, cancelled
    step: Mapped[str | None] = mapped_column(String(80))  # the workflow's open task: accept, submit, review
    step_id: Mapped[str | None] = mapped_column(String(36))  # its uuid
    state: Mapped[str] = mapped_column(CompressedText)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    due_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]  # the latest submission
    first_submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]  # when its deadline passed with nothing submitted
    ended_at: Mapped[datetime | None]
    returns: Mapped[int] = mapped_column(default=0)
    totals: Mapped[dict | None] = mapped_column(JSON)  # the numeric fields of the latest submission
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Submission(Base):
    """What a grid sent back for its assignment, and what the reviewer said of it."""

    __tablename__ = "campaign_submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("campaign_assignments.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime]
    data: Mapped[dict]
    photos: Mapped[list] = mapped_column(JSON)  # [{sha256, filename, content_type, size}]
    review: Mapped[str] = mapped_column(String(20))  # pending, returned, approved, cancelled
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


class Finding(Base):
    """A matter a submission raised, filed as a bottom-up case: the link both ways."""

    __tablename__ = "campaign_findings"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("campaign_assignments.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("campaign_submissions.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)


class CampaignEvent(Base):
    """A campaign's timeline: launched, accepted, submitted, returned, approved, overdue, cancelled."""

    __tablename__ = "campaign_events"
    __table_args__ = (Index("ix_campaign_events_campaign_id", "campaign_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_assignments.id"))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict]


class IndicatorCase(Base):
    """What one case counts for in the indicators (engine/indicators/): its history folded up to the case's
    `indicator_seq`, and the counts last added to the rollup for it, so the next change adds only the difference."""

    __tablename__ = "indicator_cases"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    state: Mapped[dict]
    facts: Mapped[dict]  # "day|department" -> {counter: amount}


class IndicatorCounters:
    """The counters of engine/indicators/definitions.py, summed over a rollup row's key."""

    reported: Mapped[int] = mapped_column(default=0, server_default="0")
    valid_reports: Mapped[int] = mapped_column(default=0, server_default="0")
    reg_decided: Mapped[int] = mapped_column(default=0, server_default="0")
    registered: Mapped[int] = mapped_column(default=0, server_default="0")
    registered_on_time: Mapped[int] = mapped_column(default=0, server_default="0")
    supervised: Mapped[int] = mapped_column(default=0, server_default="0")
    dispatched: Mapped[int] = mapped_column(default=0, server_default="0")
    dispatched_on_time: Mapped[int] = mapped_column(default=0, server_default="0")
    due_to_handle: Mapped[int] = mapped_column(default=0, server_default="0")
    handled: Mapped[int] = mapped_column(default=0, server_default="0")
    handled_on_time: Mapped[int] = mapped_column(default=0, server_default="0")
    returned: Mapped[int] = mapped_column(default=0, server_default="0")
    extended: Mapped[int] = mapped_column(default=0, server_default="0")
    reworked: Mapped[int] = mapped_column(default=0, server_default="0")
    handle_minutes: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    due_to_close: Mapped[int] = mapped_column(default=0, server_default="0")
    closed: Mapped[int] = mapped_column(default=0, server_default="0")
    closed_on_time: Mapped[int] = mapped_column(default=0, server_default="0")
    close_minutes: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    overdue_open: Mapped[int] = mapped_column(default=0, server_default="0")
    follow_ups: Mapped[int] = mapped_column(default=0, server_default="0")
    satisfied: Mapped[int] = mapped_column(default=0, server_default="0")


class IndicatorRollupMixin(IndicatorCounters):
    """Counters summed per key; any subtree, department, type, worker and span of periods sums its rows."""

    grid_id: Mapped[int] = mapped_column(primary_key=True)  # the case's grid (no FK: a bulk table)
    department: Mapped[str] = mapped_column(String(40), primary_key=True)  # a department code, "" for none
    case_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    worker_id: Mapped[int] = mapped_column(primary_key=True)  # the reporter


class IndicatorDaily(IndicatorRollupMixin, Base):
    """The rollup by local day (Asia/Shanghai): days and weeks are read here."""

    __tablename__ = "indicator_daily"
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class IndicatorMonthly(IndicatorRollupMixin, Base):
    """The same rollup by month (`month` is its first day): months, quarters and years are read here."""

    __tablename__ = "indicator_monthly"
    __table_args__ = (Index("ix_indicator_monthly_overdue", "grid_id", sqlite_where=text("overdue_open > 0"),
                            postgresql_where=text("overdue_open > 0")),)
    month: Mapped[date] = mapped_column(Date, primary_key=True)


class IndicatorTownMonthly(IndicatorCounters, Base):
    """The monthly rollup summed over a town's grids and its grid workers: what the city reads by town, type,
    department or month (a few thousand rows for a year instead of a row per grid)."""

    __tablename__ = "indicator_town_monthly"
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    town_id: Mapped[int] = mapped_column(primary_key=True)  # the case's town (its grid when above the towns)
    department: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_type: Mapped[str] = mapped_column(String(40), primary_key=True)


class IndicatorSetting(Base):
    """The composite score's weights (`weight.<indicator>`) and grade thresholds (`grade.A`...), set by admins."""

    __tablename__ = "indicator_settings"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


def column_values(row: Base) -> dict:
    """Every column of a row object that is not in a session but its generated id, as values for a bulk INSERT
    (the same keys for every row of a type, so a batch goes in as one statement; unset columns get their
    default)."""
    values = {}
    for column in type(row).__table__.columns:
        if column.primary_key and column.autoincrement is not False and column.key not in vars(row):
            continue
        value = getattr(row, column.key)
        if value is None and column.default is not None and column.default.is_scalar:
            value = column.default.arg
        values[column.key] = value
    return values
