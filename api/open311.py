"""Open311 GeoReport v2 at /open311/v2/: outside systems report matters and follow them (docs/open311.md).

Open311's own formats, not the API's: every resource is asked for as `.xml` (required by the specification)
or `.json`, lists keep the specification's element names and nesting, and errors are an array of
{code, description} with 400, 403 (api_key missing or not valid) and 404. A report is filed through
engine/cases/partners.file_report, the same use case as the API's filing, as the key's user.
"""
import math
import re
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, json, request, url_for
from werkzeug.exceptions import HTTPException

from api.context import deps
from engine.cases import partners, services
from engine.errors import GridflowError, NotFoundError, PermissionDenied, ValidationError
from engine.process.catalogue import SEVERITIES
from engine.read import open311 as reads
from workflows.open311 import SERVICES

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FMT = "<any(xml, json):fmt>"
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-02T00:00:00+08:00"
MAX_DESCRIPTION = 4000
MAX_SPAN = timedelta(days=reads.DEFAULT_DAYS)
SEVERITY_NAMES = {"low": "一般", "medium": "较急", "high": "紧急"}
CONTACT = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
LIST_ITEM = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
             "values": "value", "endpoints": "endpoint", "formats": "format", "keywords": "keyword"}
STATUS = {ValidationError: 400, PermissionDenied: 403, NotFoundError: 404}


class Problem(Exception):
    """An Open311 error answer: each (code, description) becomes one element of the errors array."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions[0] if descriptions else "")
        self.status, self.descriptions = status, descriptions or ("",)


# Formats

def _fmt() -> str:
    return (request.view_args or {}).get("fmt") or ("json" if request.path.endswith(".json") else "xml")


def answer(root: str, value, status: int = 200) -> Response:
    """`value` as JSON, or as XML under <root> with list items named as the specification names them."""
    if _fmt() == "json":
        return Response(json.dumps(value, ensure_ascii=False), status, mimetype="application/json")
    element = ET.Element(root)
    _fill(element, root, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return Response(body, status, content_type="text/xml; charset=utf-8")


def _fill(element: ET.Element, name: str, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), key, child)
    elif isinstance(value, list | tuple):
        for child in value:
            _fill(ET.SubElement(element, LIST_ITEM.get(name, "item")), LIST_ITEM.get(name, "item"), child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def errors(status: int, *descriptions: str) -> Response:
    return answer("errors", [{"code": status, "description": d} for d in descriptions], status)


@bp.errorhandler(Problem)
def _problem(exc: Problem):
    return errors(exc.status, *exc.descriptions)


@bp.errorhandler(GridflowError)
def _engine_error(exc: GridflowError):
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    details = [f"{field}: {' '.join(map(str, messages))}" for field, messages in (exc.errors or {}).items()]
    return errors(status, *(details or [exc.message]))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return errors(exc.code or 400, exc.description or exc.name)


# Keys and jurisdictions

def _jurisdiction() -> None:
    """jurisdiction_id is optional; when given it must be this installation's (the Open311 setting)."""
    given = request.values.get("jurisdiction_id")
    expected = deps().open311_jurisdiction
    if given is not None and expected and given != expected:
        raise Problem(404, f"jurisdiction_id {given!r} is not served here; use {expected!r}")


def _partner() -> partners.Partner:
    try:
        return partners.authenticate(deps(), request.values.get("api_key"))
    except PermissionDenied as exc:
        raise Problem(403, exc.message) from None


# Resources

@bp.get(f"/discovery.{FMT}")
def discovery(fmt):
    """Where this endpoint is and what it speaks."""
    _jurisdiction()
    url = url_for("open311.discovery", fmt=fmt, _external=True).rsplit("/", 1)[0] + "/"
    return answer("discovery", {
        "changeset": CHANGESET, "contact": "网格化服务管理中心", "key_service": "向管理员申请 api_key",
        "endpoints": [{"specification": SPEC, "url": url, "changeset": CHANGESET, "type": "production",
                       "formats": ["text/xml", "application/json"]}]})


def _service(case_type) -> dict:
    group, description, keywords = SERVICES.get(case_type.code, ("", case_type.title_zh, ()))
    return {"service_code": case_type.open311_code, "service_name": case_type.title_zh,
            "description": description, "metadata": True, "type": "realtime",
            "keywords": ",".join(keywords), "group": group}


@bp.get(f"/services.{FMT}")
def service_list(fmt):
    """One service per case type of the catalogue."""
    _jurisdiction()
    return answer("services", [_service(t) for t in deps().catalogue.values()])


def _case_type(code: str, status: int):
    for case_type in deps().catalogue.values():
        if case_type.open311_code == code:
            return case_type
    raise Problem(status, f"service_code {code!r} is not a service of this endpoint")


def attributes() -> list[dict]:
    """The intake fields every case type takes, as Open311 attributes."""
    return [
        {"variable": True, "code": "title", "datatype": "string", "required": False,
         "datatype_description": "至多 200 字；不填则取描述的开头", "order": 1, "description": "标题"},
        {"variable": True, "code": "severity", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "不填为 medium", "order": 2, "description": "紧急程度",
         "values": [{"key": s, "name": SEVERITY_NAMES[s]} for s in SEVERITIES]},
        {"variable": True, "code": "subcategory", "datatype": "string", "required": False,
         "datatype_description": "至多 40 字", "order": 3, "description": "小类"},
    ]


@bp.get(f"/services/<code>.{FMT}")
def service_definition(code, fmt):
    """The attributes a report of this service may carry."""
    _jurisdiction()
    case_type = _case_type(code, 404)
    return answer("service_definition", {"service_code": case_type.open311_code, "attributes": attributes()})


def _text(name: str, limit: int, problems: list) -> str:
    value = (request.form.get(name) or "").strip()
    if len(value) > limit:
        problems.append(f"{name}: at most {limit:,} characters")
    return value


def _coordinate(name: str, low: float, high: float, problems: list) -> float | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        problems.append(f"{name}: a number between {low:g} and {high:g}")
        return None
    return value


@bp.post(f"/requests.{FMT}")
def create_request(fmt):
    """File a report (form-encoded): api_key, service_code, lat+long or address_string, attribute[code]..."""
    _jurisdiction()
    partner = _partner()
    problems: list[str] = []
    code = (request.form.get("service_code") or "").strip()
    if not code:
        raise Problem(400, "service_code: required")
    case_type = _case_type(code, 400)
    lat, lng = _coordinate("lat", -90, 90, problems), _coordinate("long", -180, 180, problems)
    address = _text("address_string", 250, problems)
    if (lat is None) != (lng is None):
        problems.append("lat, long: give both")
    if lat is None and not address and not problems:
        problems.append("lat, long, address_string: give lat and long, or address_string")
    description = _text("description", MAX_DESCRIPTION, problems)
    media_url = _text("media_url", 500, problems)
    if media_url and not re.match(r"^https?://[^\s/]+\S*$", media_url):
        problems.append("media_url: an http or https URL")
    attrs = {m.group(1): v.strip() for k, v in request.form.items() if (m := re.fullmatch(r"attribute\[(.+)\]", k))}
    known = {a["code"] for a in attributes()}
    problems += [f"attribute[{name}]: not an attribute of {code}" for name in attrs if name not in known]
    severity = attrs.get("severity") or "medium"
    if severity not in SEVERITIES:
        problems.append(f"attribute[severity]: one of {', '.join(SEVERITIES)}")
    title = attrs.get("title") or (description[:50] if description else case_type.title_zh)
    if len(title) > 200:
        problems.append("attribute[title]: at most 200 characters")
    if len(attrs.get("subcategory", "")) > 40:
        problems.append("attribute[subcategory]: at most 40 characters")
    contact = {name: _text(name, 100, problems) for name in CONTACT}
    if problems:
        raise Problem(400, *problems)
    extra = {k: v for k, v in {**contact, "address_string": address, "media_url": media_url}.items() if v}
    report = {k: v for k, v in request.form.items() if k != "api_key"}
    new = services.NewCase(type=case_type.code, title=title, description=description, severity=severity,
                           subcategory=attrs.get("subcategory", ""), lat=lat, lng=lng)
    case_id, token = partners.file_report(deps(), partner, new, report, extra)
    found = reads.find_requests(deps(), partner.grid_path, case_ids=[case_id])
    return answer("service_requests", [{"service_request_id": found[0]["service_request_id"], "token": token,
                                        "service_notice": "", "account_id": contact["account_id"]}], 201)


def _date(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(400, f"{name}: an ISO 8601 date and time with its zone, e.g. 2026-12-01T00:00:00+08:00") \
            from None
    if moment.tzinfo is None:
        raise Problem(400, f"{name}: give the zone, e.g. +08:00")
    return moment


def _listed(name: str) -> list[str]:
    return [v.strip() for v in (request.args.get(name) or "").split(",") if v.strip()]


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Problem(400, f"{name}: a whole number from {low} to {high}")
    return int(raw)


@bp.get(f"/requests.{FMT}")
def request_list(fmt):
    """Reports in the key's area: by service_request_id (which overrides the rest), or by service_code,
    start_date, end_date (at most 90 days apart; the last 90 days by default), status (open, closed); at most
    1,000, newest first."""
    _jurisdiction()
    partner = _partner()
    start, end = _date("start_date"), _date("end_date")
    if start and end and (end < start or end - start > MAX_SPAN):
        raise Problem(400, "start_date, end_date: end_date after start_date, at most 90 days apart")
    if start and not end:
        end = start + MAX_SPAN
    statuses = set(_listed("status"))
    if statuses - {"open", "closed"}:
        raise Problem(400, "status: open, closed, or both separated by a comma")
    codes = {t.open311_code: t.code for t in deps().catalogue.values()}
    unknown = [c for c in _listed("service_code") if c not in codes]
    if unknown:
        raise Problem(400, f"service_code: unknown {', '.join(unknown)}")
    page_size = _whole("page_size", reads.MAX_REQUESTS, 1, reads.MAX_REQUESTS)
    page = _whole("page", 1, 1, 10_000)
    numbers = _listed("service_request_id")
    if numbers:  # "this overrides all other arguments", as the specification says
        found = reads.find_requests(deps(), partner.grid_path, numbers=numbers[:reads.MAX_REQUESTS])
        return answer("service_requests", found)
    found = reads.find_requests(
        deps(), partner.grid_path, types=[codes[c] for c in _listed("service_code")], start=start, end=end,
        status=statuses.pop() if len(statuses) == 1 else None, limit=page_size, offset=(page - 1) * page_size)
    return answer("service_requests", found)


@bp.get(f"/requests/<request_id>.{FMT}")
def request_item(request_id, fmt):
    """One report, as an array of one (as the specification's examples and clients in the wild have it)."""
    _jurisdiction()
    partner = _partner()
    found = reads.find_requests(deps(), partner.grid_path, numbers=[request_id])
    if not found:
        raise Problem(404, f"service_request_id {request_id!r} not found")
    return answer("service_requests", found)


@bp.get(f"/tokens/<token>.{FMT}")
def token_item(token, fmt):
    """The service request a report's token filed."""
    _jurisdiction()
    partner = _partner()
    case_id = partners.case_for_token(deps(), partner, token) if re.fullmatch(r"[0-9a-f]{1,64}", token) else None
    found = reads.find_requests(deps(), partner.grid_path, case_ids=[case_id]) if case_id else []
    if not found:
        raise Problem(404, f"token {token!r} not found")
    return answer("service_requests", [{"service_request_id": found[0]["service_request_id"], "token": token}])


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest):
    """Anything else under /open311/v2/ (an unknown resource or format) answers 404 in Open311's own format."""
    raise Problem(404, f"no resource {rest!r}: use discovery, services, requests or tokens with .xml or .json")
