"""Errors in the user's language, for the pages and the API alike: the engine's messages (and the API's own) are
English, fixed or formatted; each pattern here maps one to a msgid of the catalogue (web/translations). A message
no pattern knows gets its error class's (or HTTP status's) general message, so a new message shows something true
in Chinese rather than English. English readers get the original, more detailed text."""
import re

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from engine import errors


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; translated where it is used."""
    return msgid


FIELD_MESSAGES = (  # (pattern over the engine's field message, msgid; named groups fill its placeholders)
    (r"(Missing data for required field|Must not be blank|Field may not be null)\.", N_("This field is required.")),
    (r"Not a valid boolean\.", N_("Choose yes or no.")),
    (r"Not a valid whole number between (?P<low>-?\d+) and (?P<high>-?\d+)\.",
     N_("Enter a whole number from %(low)s to %(high)s.")),
    (r"Not a valid (string|list of strings)\.", N_("This value is not valid.")),
    (r"(Unknown choices: .*|Must be one of: .*)", N_("Choose one of the options.")),
    (r"Longer than maximum length (?P<max>\d+)\.", N_("At most %(max)s characters.")),
    (r"Unknown field\.", N_("This field is not part of the form.")),
    (r"No case numbered '(?P<number>.*)' that you can see\.", N_("No case numbered %(number)s that you can see.")),
    (r"Name another case than this one\.", N_("Name another case than this one.")),
    (r"No grid covers lat .*", N_("No grid covers this place.")),
    (r"Grid (?P<code>\S+) is outside your area\.", N_("Grid %(code)s is outside your area.")),
    (r"Give a grid code or a location\.", N_("Pick the place on the map or use your location.")),
    (r"Unknown grid code\.", N_("Unknown grid.")),
    (r"Send .*", N_("Send a photo (JPEG, PNG, WebP or HEIC), a PDF, or a Word or Excel file.")),
    (r"A file may have at most (?P<mb>[\d.]+) MB\.", N_("A file may have at most %(mb)s MB.")),
    (r"A case keeps at most (?P<count>\d+) attachments\.", N_("A case keeps at most %(count)s files.")),
    (r"Attachment .* is not on this case.*", N_("This file is not on this case, or belongs to another task.")),
    (r"Already used for a different request\.", N_("This form was already sent with other content.")),
    (r"Use 1 to 100 characters\.", N_("This value is not valid.")),
    (r"Wrong password\.", N_("Wrong password.")),
    (r"Must be (?P<low>\d+) to (?P<high>\d+) characters long\.", N_("Use %(low)s to %(high)s characters.")),
    (r"Length must be between (?P<low>\d+) and (?P<high>\d+)\.", N_("Use %(low)s to %(high)s characters.")),
    (r"Not a valid (integer|number)\.", N_("Enter a number.")),
    (r"Not a valid datetime\.", N_("Enter a date and time.")),
    (r"Must be in the future, within 90 days\.", N_("Must be in the future, within 90 days.")),
    (r"No user named .*", N_("No user with this username.")),
    (r"No grid with code .*", N_("Unknown grid.")),
    (r"Not a cursor of this list and sort order\.", N_("The page link is out of date; search again.")),
    (r"Unknown grid code, or outside your area\.", N_("Unknown grid, or outside your area.")),
    (r"No department with code '(?P<code>.*)'\.", N_("No department with code %(code)s.")),
    (r"Give the counter the days are for\.", N_("Choose what was counted on these days.")),
    (r"Must be a date from (?P<low>\d+) to (?P<high>\d+)\.", N_("Give a date from %(low)s to %(high)s.")),
    (r"Must be on or after counted_from\.", N_("Must be on or after the first day.")),
)
HTTP_MESSAGES = (  # the API's own messages, beside the engine's
    (r"the request data is not valid", N_("The request data is not valid.")),
    (r"the request body is larger than (?P<limit>.+), the most this endpoint accepts",
     N_("The request is larger than %(limit)s, the most it may be.")),
    (r"the file is larger than (?P<limit>.+), the most an attachment may be",
     N_("The file is larger than %(limit)s, the most an attachment may be.")),
    (r"the request body is too large", N_("The request is too large.")),
    (r"internal error; it has been logged", N_("Something went wrong on our side; it has been logged.")),
    (r"the database is not available just now; try again in a moment",
     N_("The service is briefly unavailable. Try again in a moment.")),
)
BY_STATUS = {  # an HTTP answer no pattern knows
    400: N_("The request is not valid."), 401: N_("Please sign in again."), 403: N_("Your role may not do this."),
    404: N_("Not found, or outside your area."), 405: N_("This method is not allowed here."),
    409: N_("This has changed in the meantime."), 413: N_("The request is too large."),
    415: N_("Send the request as JSON."), 422: N_("The request data is not valid."),
    429: N_("Too many requests. Try again later."),
}
MESSAGES = (  # the error's own message
    (r"wrong username or password", N_("Wrong username or password.")),
    (r"the task has already been claimed by someone else", N_("Someone else has already taken this task.")),
    (r"the task is already (?P<status>\w+)", N_("This task has already been dealt with.")),
    (r"the task is not claimed.*", N_("The task is not taken: there is nothing to give back.")),
    (r"this task is for the role .*", N_("This task is for another role.")),
    (r"this task is outside your grid or department", N_("This task is outside your grid or department.")),
    (r"only the person who claimed the task can release it", N_("Only whoever took the task can give it back.")),
    (r"the case is already (?P<status>\w+).*", N_("The case is already closed.")),
    (r"the case cannot be .*", N_("The case cannot do that at its present stage.")),
)
GENERAL = (  # by error class, most specific first
    (errors.TooManyAttempts, N_("Too many failed sign-ins. Try again in %(minutes)s minutes.")),
    (errors.NotFoundError, N_("Not found, or outside your area.")),
    (errors.ConflictError, N_("This has changed in the meantime. The page shows how it stands now.")),
    (errors.PermissionDenied, N_("Your role may not do this.")),
    (errors.AuthenticationError, N_("Please sign in again.")),
    (errors.TooLarge, N_("The file is too large.")),
    (errors.ValidationError, N_("Please correct the fields marked below.")),
    (errors.GridflowError, N_("This could not be done.")),
)
FIELD_FALLBACK = N_("This value is not valid.")


def _match(table, text: str) -> str | None:
    for pattern, msgid in table:
        found = re.fullmatch(pattern, text)
        if found:
            return _(msgid, **found.groupdict())
    return None


def field_message(text: str) -> str:
    """One of the engine's field messages, translated."""
    return _match(FIELD_MESSAGES, text) or _(FIELD_FALLBACK)


def message(exc: errors.GridflowError) -> str:
    """An engine error's message, translated; its class's general message when no pattern knows it."""
    known = _match(MESSAGES, exc.message)
    if known:
        return known
    for cls, msgid in GENERAL:
        if isinstance(exc, cls):
            minutes = max(1, getattr(exc, "retry_after", 60) // 60)
            return _(msgid, minutes=minutes)
    return _(GENERAL[-1][1])


def field_errors(exc: errors.GridflowError) -> dict[str, list[str]]:
    """An engine error's field messages, translated, by field name."""
    return {name: [field_message(str(text)) for text in texts] for name, texts in exc.errors.items()}



def chinese() -> bool:
    """Whether this request is answered in Chinese (the default; see web/i18n.py). An app without the catalogue
    (a bare test app) answers in the original words."""
    return "babel" in current_app.extensions and get_locale().language == "zh"


def http_message(text: str, status: int) -> str:
    """One of the API's own messages, translated; the status's general message when no pattern knows it."""
    return _match(HTTP_MESSAGES, text) or _(BY_STATUS.get(status, GENERAL[-1][1]))


def field_tree(value):
    """Field messages however they nest (a list of messages, or messages by field or by list index)."""
    if isinstance(value, str):
        return field_message(value)
    if isinstance(value, dict):
        return {key: field_tree(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [field_tree(item) for item in value]
    return value
