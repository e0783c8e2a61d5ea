"""Administration: import grids, departments and users from CSV or GeoJSON files; calendar overrides;
deactivating and reactivating users."""
from datetime import date

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import errors, schemas
from api.context import Blueprint, authenticate, body_limit, deps, user
from api.schemas import Input
from engine.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.imports import importer
from engine.people import accounts
from engine.sla import holidays

MAX_IMPORT_BYTES = 50 * 1024 * 1024  # a city's grid polygons outgrow the app's 1 MB limit on requests
FILENAMES = {"text/csv": "upload.csv", "application/geo+json": "upload.geojson", "application/json": "upload.json"}
IMPORT_BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                       "properties": {"file": {"type": "string", "format": "binary"}}}},
    "text/csv": {"schema": {"type": "string"}},
    "application/geo+json": {"schema": {"type": "object"}},
}}

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Administration")


@blp.before_request
def _admin_only():
    """Every administration endpoint is for admins: sign-in first, then the role."""
    authenticate()
    if user().role != "admin":
        raise PermissionDenied("only an admin may do this")


class ImportQuery(Input):
    dry_run = fields.Boolean(load_default=False)
    filename = fields.String(load_default="", validate=validate.Length(max=255))


class ImportReportOut(Schema):
    kind = fields.String()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    dry_run = fields.Boolean()


@blp.route("/imports/<kind>", parameters=[
    {"in": "path", "name": "kind", "required": True, "schema": {"type": "string", "enum": list(importer.KINDS)}}])
class Imports(MethodView):
    @body_limit(MAX_IMPORT_BYTES)
    @blp.arguments(ImportQuery, location="query")
    @blp.response(200, ImportReportOut)
    @blp.doc(requestBody=IMPORT_BODY)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, *errors.JSON_BODY)
    def post(self, query, kind):
        """Import a file of grids, departments or users (admins only): every row is valid or nothing is written."""
        filename, content = _uploaded_file(query["filename"])
        return importer.import_file(deps(), kind, filename, content, dry_run=query["dry_run"])


def _uploaded_file(filename: str) -> tuple[str, bytes]:
    """The file's name and bytes, from a multipart form field `file` or from the raw body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        content = upload.read() if upload else b""
        filename = filename or (upload.filename if upload else "")
    else:
        content = request.get_data()
        filename = filename or FILENAMES.get(request.mimetype, "")
    if not content:
        raise ValidationError("the request has no file", {"file": ["Send the file as the form field 'file' "
                                                                   "or as the request body."]})
    return filename, content


class HolidayIn(Input):
    kind = fields.String(required=True, validate=validate.OneOf(holidays.KINDS))
    name = fields.String(load_default="", validate=validate.Length(max=100))


class HolidayOut(Schema):
    day = fields.Date()
    kind = fields.String()
    name = fields.String()


@blp.route("/holidays")
class Holidays(MethodView):
    @blp.response(200, HolidayOut(many=True))
    @errors.raises(blp, AuthenticationError, PermissionDenied)
    def get(self):
        """The calendar overrides: holidays and make-up working days the official calendar lacks."""
        return holidays.list_days(deps())


@blp.route("/holidays/<string:day>", parameters=[
    {"in": "path", "name": "day", "required": True, "schema": {"type": "string", "format": "date"}}])
class HolidayItem(MethodView):
    @blp.arguments(HolidayIn)
    @blp.response(200, HolidayOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, *errors.JSON_BODY)
    def put(self, body, day):
        """Declare a day (YYYY-MM-DD) a holiday or a working day."""
        when = _day(day)
        holidays.set_day(deps(), when, body["kind"], body["name"])
        return {"day": when, **body}

    @blp.response(204)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ValidationError)
    def delete(self, day):
        """Remove an override."""
        holidays.remove_day(deps(), _day(day))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError("not a date", {"day": ["Use YYYY-MM-DD."]}) from None


USERNAME = [{"in": "path", "name": "username", "required": True, "schema": {"type": "string", "maxLength": 64}}]


@blp.route("/users/<string:username>/deactivate", parameters=USERNAME)
class Deactivate(MethodView):
    @blp.response(200, schemas.AccountStateOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError)
    def post(self, username):
        """Deactivate a user: they cannot sign in, and every token and session of theirs is revoked at once."""
        return accounts.deactivate_user(deps(), user().id, username)


@blp.route("/users/<string:username>/activate", parameters=USERNAME)
class Activate(MethodView):
    @blp.response(200, schemas.AccountStateOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError)
    def post(self, username):
        """Let a deactivated user sign in again (their old tokens stay revoked)."""
        return accounts.activate_user(deps(), user().id, username)
