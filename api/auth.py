"""Sign-in: bearer tokens for programs and phones, a session cookie for the browser."""
from flask import current_app, request, session
from flask.views import MethodView

from api import errors, schemas
from api.context import Blueprint, authenticate, client_address, deps, start_browser_session, token_id, user
from engine.errors import AuthenticationError, NotFoundError, TooManyAttempts, ValidationError
from engine.people import auth
from engine.read import views

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign in")
PUBLIC = {"auth.Token", "auth.Session"}


@blp.before_request
def _sign_in_required():
    if request.endpoint not in PUBLIC:
        authenticate()


def _hours() -> int:
    return current_app.config["GRIDFLOW_SETTINGS"].token_hours


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(schemas.TokenRequest)
    @blp.response(201, schemas.TokenResponse)
    @errors.raises(blp, AuthenticationError, TooManyAttempts, *errors.JSON_BODY)
    @blp.doc(security=[])
    def post(self, body):
        """Issue a bearer token for a username and password (failed attempts are throttled)."""
        issued = auth.issue_token(deps(), body["username"], body["password"], _hours(), client_address(),
                                  body["name"])
        return {"id": issued.id, "token": issued.token, "token_type": "Bearer", "expires_at": issued.expires_at}


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(200, schemas.TokenInfo(many=True))
    @errors.raises(blp, AuthenticationError)
    def get(self):
        """My live tokens (the token itself is never shown again)."""
        return auth.list_tokens(deps(), user().id)


@blp.route("/tokens/<id:token_id>")
class TokenItem(MethodView):
    @blp.response(204)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def delete(self, token_id):
        """Revoke one of my tokens (an admin may revoke anyone's)."""
        auth.revoke_token(deps(), user(), token_id)


@blp.route("/session")
class Session(MethodView):
    @blp.arguments(schemas.SignIn)
    @blp.response(201, schemas.SessionResponse)
    @errors.raises(blp, AuthenticationError, TooManyAttempts, *errors.JSON_BODY)
    @blp.doc(security=[])
    def post(self, body):
        """Sign the browser in: sets the session cookie; send csrf_token as X-CSRF-Token on changes."""
        started = start_browser_session(body["username"], body["password"])
        return {"csrf_token": started.csrf, "expires_at": started.expires_at,
                "user": views.user_profile(deps(), started.user_id)}

    @blp.response(204)
    @blp.doc(security=[])
    def delete(self):
        """Sign the browser out: the session's token is revoked and the cookie cleared (without a session, nothing
        to do: 204 all the same)."""
        token = session.get("token")
        if token:  # no CSRF check: the worst a forged sign-out can do is sign someone out
            try:
                signed_in, token_id = auth.user_for_token(deps(), token)
                auth.revoke_token(deps(), signed_in, token_id)
            except AuthenticationError:
                pass  # already expired or revoked
        session.clear()


@blp.route("/password")
class Password(MethodView):
    @blp.arguments(schemas.PasswordChange)
    @blp.response(200, schemas.PasswordChanged)
    @errors.raises(blp, AuthenticationError, ValidationError, TooManyAttempts, *errors.JSON_BODY)
    def post(self, body):
        """Change my password, giving the current one; my other tokens and sessions are revoked."""
        revoked = auth.change_password(deps(), user().id, body["old_password"], body["new_password"],
                                       client_address(), keep_token_id=token_id())
        return {"tokens_revoked": revoked}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, schemas.UserOut)
    @errors.raises(blp, AuthenticationError)
    def get(self):
        """Who I am: role, grid and department."""
        return views.user_profile(deps(), user().id)
