"""One hierarchy of errors for the engine; only api/errors.py maps them to HTTP."""


class GridflowError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFoundError(GridflowError):
    """The thing does not exist, or the actor may not see it."""


class ConflictError(GridflowError):
    """The thing changed under the actor: a stale task, a lost race, a wrong state."""


class PermissionDenied(GridflowError):
    """The actor sees the thing but their role may not do this to it."""


class AuthenticationError(GridflowError):
    """No valid credentials."""


class ValidationError(GridflowError):
    """Input that is well formed but breaks a rule; `errors` names the fields."""


class TooLarge(GridflowError):
    """Input beyond a size limit (an attached file)."""


class ProcessError(GridflowError):
    """A process definition is invalid or failed while running."""


class TooManyAttempts(GridflowError):
    """Too many failed attempts; try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
