"""Sign-in: trade a username and password for a bearer token."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api import schemas
from api.context import deps
from engine import auth

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign in")


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(schemas.TokenRequest)
    @blp.response(201, schemas.TokenResponse)
    @blp.doc(security=[])
    def post(self, body):
        """Issue a bearer token for a username and password."""
        issued = auth.issue_token(deps(), body["username"], body["password"],
                                  current_app.config["GRIDFLOW_SETTINGS"].token_hours)
        return {"token": issued.token, "token_type": "Bearer", "expires_at": issued.expires_at}
