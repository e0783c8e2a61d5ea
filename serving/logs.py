"""Logs: plain text by default, JSON lines with GRIDFLOW_LOG_FORMAT=json; each line of a request carries its
request id, and the case number where the request changed a case (or named one in its path)."""
import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

REQUEST_ID = contextvars.ContextVar("gridflow_request_id", default=None)
CASES = contextvars.ContextVar("gridflow_cases", default=None)  # numbers of the cases written in this request
HEADER = "X-Request-Id"
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
QUIET = {"spiff": logging.WARNING}  # SpiffWorkflow logs every task's state change at INFO: dozens a request


def request_id_from(header: str | None) -> str:
    """A caller's X-Request-Id if it is a short token (a proxy's, a client's), else a fresh one."""
    if header and _ACCEPTED.fullmatch(header):
        return header
    return uuid.uuid4().hex


def note_case(number: str) -> None:
    """Remember a case this request (or job) wrote, for its log lines."""
    numbers = CASES.get()
    if numbers is not None and number not in numbers:
        numbers.append(number)


class ContextFilter(logging.Filter):
    """Puts the request id and the case numbers of the current request on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        if getattr(record, "case", None) is None:
            numbers = CASES.get()
            record.case = ",".join(numbers) if numbers else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and every extra field set."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STANDARD and value is not None:
                line[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send the root logger's records to stderr in the chosen format, with the request context on each."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "gridflow", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.gridflow = True
    handler.setFormatter(formatter(log_format))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
