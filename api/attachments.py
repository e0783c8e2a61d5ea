"""Attachments: photos and documents on cases, as evidence of task completions too."""
from io import BytesIO

from flask import g, request, send_file
from flask.views import MethodView

from api import errors, schemas
from api.context import Blueprint, authenticate, deps, user
from engine.cases import attachments
from engine.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDenied, TooLarge
from engine.store import filetypes

FORM_OVERHEAD = 64 * 1024  # room in the request for the multipart framing and the other fields
BINARY = {"schema": {"type": "string", "format": "binary"}}
CONTENT_RESPONSE = {"200": {"description": "The bytes as uploaded, with the content type read from them; "
                                           "the ETag is their sha256.",
                            "content": {content_type: BINARY for content_type in filetypes.EXTENSIONS}},
                    "304": {"description": "Not modified: If-None-Match named this sha256."}}

blp = Blueprint("attachments", __name__, url_prefix="/api/v1", description="Attachments")


@blp.before_request
def _sign_in_and_allow_files():
    """Every request is signed in; an upload may be larger than the app's limit for other requests."""
    authenticate()
    if request.method == "POST":
        g.upload_limit = deps().attachment_max_bytes  # what a 413 names (api/errors.py)
        request.max_content_length = deps().attachment_max_bytes + FORM_OVERHEAD


@blp.route("/cases/<id:case_id>/attachments")
class CaseAttachments(MethodView):
    @blp.arguments(schemas.AttachmentUpload, location="multipart")
    @blp.response(201, schemas.AttachmentOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, TooLarge,
                   *errors.JSON_BODY)
    def post(self, form, case_id):
        """Upload a photo or document to a case (multipart/form-data); with `task_id`, as that task's evidence."""
        upload = form["file"]
        attachment_id = attachments.upload_attachment(deps(), user().id, case_id, attachments.Upload(
            filename=upload.filename or "", content=upload.read(), kind=form["kind"], task_id=form.get("task_id")))
        return attachments.attachment_detail(deps(), user(), attachment_id)

    @blp.response(200, schemas.AttachmentOut(many=True))
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, case_id):
        """The attachments of a case, oldest first."""
        return attachments.list_attachments(deps(), user(), case_id)


@blp.route("/attachments/<id:attachment_id>")
class AttachmentItem(MethodView):
    @blp.response(200, schemas.AttachmentOut)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, attachment_id):
        """One attachment's name, kind, type, size, hash, uploader and task."""
        return attachments.attachment_detail(deps(), user(), attachment_id)


@blp.route("/attachments/<id:attachment_id>/content")
class AttachmentContent(MethodView):
    @blp.doc(responses=CONTENT_RESPONSE)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, attachment_id):
        """The attachment's bytes: photos shown inline, documents downloaded."""
        detail, content = attachments.attachment_content(deps(), user(), attachment_id)
        response = send_file(BytesIO(content), mimetype=detail["content_type"], download_name=detail["filename"],
                             as_attachment=detail["content_type"] not in filetypes.IMAGES,
                             etag=detail["sha256"], conditional=True)
        response.cache_control.private = True
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
