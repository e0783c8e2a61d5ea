"""Tasks: the inbox, and claiming, releasing, completing, assigning and delegating work."""
from flask.views import MethodView

from api import errors, paging, schemas
from api.context import Blueprint, authenticate, deps, user
from engine.cases import assignment, services
from engine.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.read import views

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Tasks")
blp.before_request(authenticate)


@blp.route("")
class Tasks(MethodView):
    @blp.arguments(schemas.TaskQuery, location="query")
    @blp.response(200, schemas.TaskOut(many=True), headers=paging.HEADERS)
    @errors.raises(blp, AuthenticationError, ValidationError)
    def get(self, query):
        """My inbox: tasks assigned to me or open for me to claim (other scopes by `scope`), overdue first."""
        return paging.paged(views.list_tasks(deps(), user(), **query))


@blp.route("/<task_id>")
class TaskItem(MethodView):
    @blp.response(200, schemas.TaskDetailOut)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, task_id):
        """One task with the form its completion needs and what I may do with it now."""
        return views.task_detail(deps(), user(), task_id)


@blp.route("/<task_id>/claim")
class Claim(MethodView):
    @blp.response(200, schemas.TaskDetailOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError)
    def post(self, task_id):
        """Claim an open task."""
        services.claim_task(deps(), user().id, task_id)
        return views.task_detail(deps(), user(), task_id)


@blp.route("/<task_id>/release")
class Release(MethodView):
    @blp.response(200, schemas.TaskDetailOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError)
    def post(self, task_id):
        """Give a claimed task back."""
        services.release_task(deps(), user().id, task_id)
        return views.task_detail(deps(), user(), task_id)


@blp.route("/<task_id>/complete")
class Complete(MethodView):
    @blp.arguments(schemas.TaskComplete)
    @blp.response(200, schemas.CaseOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, *errors.JSON_BODY)
    def post(self, body, task_id):
        """Complete a task with its form data and evidence; answers with the case as it now stands."""
        case_id = services.complete_task(deps(), user().id, task_id, body["data"], body["attachments"])
        return views.case_detail(deps(), user(), case_id)


@blp.route("/<task_id>/assign")
class Assign(MethodView):
    @blp.arguments(schemas.AssignIn)
    @blp.response(200, schemas.TaskDetailOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, *errors.JSON_BODY)
    def post(self, body, task_id):
        """Give an open or claimed task to a named candidate (supervisors; grid leaders for grid tasks)."""
        assignment.assign_task(deps(), user().id, task_id, body["username"], body["reason"])
        return views.task_detail(deps(), user(), task_id)


@blp.route("/<task_id>/delegate")
class Delegate(MethodView):
    @blp.arguments(schemas.DelegateIn)
    @blp.response(200, schemas.TaskDetailOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, *errors.JSON_BODY)
    def post(self, body, task_id):
        """Hand my claimed task to another candidate, with a reason."""
        assignment.delegate_task(deps(), user().id, task_id, body["username"], body["reason"])
        return views.task_detail(deps(), user(), task_id)
