"""Settings from the environment; nothing here connects to anything."""
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything Gridflow reads from its environment, with embedded defaults."""

    instance_path: Path = ROOT / "instance"
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    queue_name: str = "gridflow"
    token_hours: int = 24 * 30  # how long a bearer token or browser session lasts
    https: bool = False  # served over HTTPS (directly or behind a proxy): Secure cookies and HSTS
    proxy_hops: int = 0  # reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted
    timeline_key: str = ""  # seals case timelines; default: derived from secret_key (see chain_key)
    sweep_seconds: float = 60  # how often a worker looks for due deadlines no one holds
    lease_seconds: float = 60  # how long a worker holds the deadlines it took to fire
    timezone: str = "Asia/Shanghai"
    office_hours: str = "08:30-12:00,14:00-17:30"  # local time, comma-separated periods
    warn_at: str = "0.5,0.8"  # fractions of a time limit at which to warn
    migrate: bool = True  # bring the schema up to date at start
    attachments_dir: Path | None = None  # default: <instance>/attachments
    attachment_max_bytes: int = 10 * MB
    attachments_per_case: int = 50
    webhook_backoff_seconds: float = 30  # the first retry's wait; each next one doubles
    webhook_max_backoff_seconds: float = 3600
    webhook_retry_hours: float = 24  # then the delivery fails and its endpoint is paused
    webhook_timeout_seconds: float = 5
    partner_retry_minutes: float = 10  # the same Open311 report from one partner within it files once
    open311_jurisdiction: str = ""  # the jurisdiction_id Open311 clients may send ("": any)
    metrics_token: str = ""  # /metrics answers only with "Authorization: Bearer <this>"; empty: /metrics is off
    log_format: str = "text"  # "json": one JSON object a line, with the request id and the case number

    def __post_init__(self):
        if not self.database_url:
            url = f"sqlite:///{Path(self.instance_path) / 'gridflow.db'}"
            object.__setattr__(self, "database_url", url)
        if self.attachments_dir is None:
            object.__setattr__(self, "attachments_dir", Path(self.instance_path) / "attachments")

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def chain_key(self) -> bytes:
        """The key that seals case timelines: GRIDFLOW_TIMELINE_KEY, else one derived from SECRET_KEY (the hex
        HMAC-SHA256 of "gridflow timeline key" under it). Timelines sealed under one key verify only under it:
        before changing SECRET_KEY, set GRIDFLOW_TIMELINE_KEY to the derived value."""
        if self.timeline_key:
            return self.timeline_key.encode()
        return hmac.new(self.secret_key.encode(), b"gridflow timeline key", hashlib.sha256).hexdigest().encode()

    @classmethod
    def from_env(cls, env=None, **overrides) -> "Settings":
        """Read GRIDFLOW_INSTANCE, DATABASE_URL, REDIS_URL, GRIDFLOW_QUEUE, SECRET_KEY and the GRIDFLOW_
        settings for office hours, warnings, deadline sweeps, attachments, tokens, HTTPS, proxies, the
        timeline key, webhooks, Open311, the metrics token, the log format and whether to migrate at start;
        overrides win."""
        env = os.environ if env is None else env
        values = {
            "instance_path": Path(env.get("GRIDFLOW_INSTANCE", ROOT / "instance")),
            "database_url": env.get("DATABASE_URL", ""),
            "redis_url": env.get("REDIS_URL", ""),
            "queue_name": env.get("GRIDFLOW_QUEUE", "gridflow"),
            "office_hours": env.get("GRIDFLOW_OFFICE_HOURS", "08:30-12:00,14:00-17:30"),
            "warn_at": env.get("GRIDFLOW_SLA_WARN_AT", "0.5,0.8"),
            "sweep_seconds": float(env.get("GRIDFLOW_SWEEP_SECONDS", 60)),
            "lease_seconds": float(env.get("GRIDFLOW_LEASE_SECONDS", 60)),
            "attachment_max_bytes": int(float(env.get("GRIDFLOW_ATTACHMENT_MAX_MB", 10)) * MB),
            "attachments_per_case": int(env.get("GRIDFLOW_ATTACHMENTS_PER_CASE", 50)),
            "token_hours": int(env.get("GRIDFLOW_TOKEN_HOURS", 24 * 30)),
            "https": env.get("GRIDFLOW_HTTPS", "").lower() in ("1", "true", "yes", "on"),
            "proxy_hops": int(env.get("GRIDFLOW_PROXY_HOPS", 0)),
            "timeline_key": env.get("GRIDFLOW_TIMELINE_KEY", ""),
            "webhook_backoff_seconds": float(env.get("GRIDFLOW_WEBHOOK_BACKOFF_SECONDS", 30)),
            "webhook_max_backoff_seconds": float(env.get("GRIDFLOW_WEBHOOK_MAX_BACKOFF_SECONDS", 3600)),
            "webhook_retry_hours": float(env.get("GRIDFLOW_WEBHOOK_RETRY_HOURS", 24)),
            "webhook_timeout_seconds": float(env.get("GRIDFLOW_WEBHOOK_TIMEOUT_SECONDS", 5)),
            "partner_retry_minutes": float(env.get("GRIDFLOW_PARTNER_RETRY_MINUTES", 10)),
            "open311_jurisdiction": env.get("GRIDFLOW_OPEN311_JURISDICTION", ""),
            "metrics_token": env.get("GRIDFLOW_METRICS_TOKEN", ""),
            "migrate": env.get("GRIDFLOW_MIGRATE", "1").lower() not in ("0", "false", "no", "off"),
            "log_format": env.get("GRIDFLOW_LOG_FORMAT", "text").lower(),
        }
        if env.get("GRIDFLOW_ATTACHMENTS_DIR"):
            values["attachments_dir"] = Path(env["GRIDFLOW_ATTACHMENTS_DIR"])
        values.update(overrides)
        values.setdefault("secret_key", env.get("SECRET_KEY") or _instance_secret(Path(values["instance_path"])))
        return cls(**values)


def _instance_secret(instance_path: Path) -> str:
    """A secret kept in the instance folder, so every process of one installation shares it."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()
