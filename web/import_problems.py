"""An import's problems in the reader's language, as a table by row and field.

The importer (engine/imports) keys each problem "row N.field" (or "file") and words it in English, fixed or
formatted; each pattern here maps one to a msgid of the catalogue, its named groups filling the placeholders
(levels and roles by their labels). A message no pattern knows is shown as the general "not valid" with the
original words beside it, so nothing is lost."""
import re

from flask_babel import gettext as _

from api.messages import N_, chinese
from web import labels

LEVEL = r"(?:city|town|village|level-2 grid|unit grid) \(level (?P<level>\d)\)"
PATTERNS = (  # (pattern over the importer's message, msgid)
    (r"Required\.", N_("Required.")),
    (r"Missing column\.", N_("This column is missing from the header.")),
    (r"The column appears twice\.", N_("This column appears twice in the header.")),
    (r"Unknown column; the columns are: (?P<columns>.*)\.", N_("Unknown column; the columns are: %(columns)s.")),
    (r"The row has (?P<cells>\d+) cells but the header has (?P<columns>\d+)\.",
     N_("The row has %(cells)s cells but the header has %(columns)s.")),
    (r"There are no data rows\.", N_("The file has no data rows.")),
    (r"The file is empty; .*", N_("The file is empty; it needs a header row and data rows.")),
    (r"The file is not UTF-8 text .*", N_("The file is not UTF-8 text; save it as “CSV UTF-8”.")),
    (r"The file is not readable as CSV: .*", N_("The file cannot be read as CSV.")),
    (r"The file is not readable as JSON: .*", N_("The file cannot be read as JSON.")),
    (r"\w+ are imported from CSV only\.", N_("This kind of data is imported from CSV only.")),
    (r"A GeoJSON file must be .*", N_("A GeoJSON file must be a FeatureCollection with a list of features.")),
    (r"Each feature needs an object of properties\.", N_("Each feature needs its properties.")),
    (r"A Polygon or MultiPolygon geometry is required\.", N_("A Polygon or MultiPolygon geometry is required.")),
    (r"Must be text without unpaired surrogates.*", N_("The text holds characters that cannot be stored.")),
    (r"Must not contain the NUL character\.", N_("The text holds characters that cannot be stored.")),
    (r"'(?P<value>.*)' is not valid: 1 to (?P<max>\d+) letters, digits.*",
     N_("“%(value)s” is not valid: use 1 to %(max)s letters, digits and the signs shown in the guide.")),
    (r"'(?P<value>.*)' is not valid: up to 32 digits.*",
     N_("“%(value)s” is not a phone number: up to 32 digits, spaces, +, - or brackets.")),
    (r"Must be (?P<low>\d+) to (?P<high>\d+) characters long\.", N_("Use %(low)s to %(high)s characters.")),
    (r"'(?P<value>.*)' is not a level: .*",
     N_("“%(value)s” is not a level: 0 city, 1 town, 2 village, 3 level-2 grid, 4 unit grid.")),
    (r"'(?P<value>.*)' is not one of: true, false, .*",
     N_("“%(value)s” is not yes or no: use 是 or 否 (or true/false, 1/0), or leave it empty.")),
    (r"'(?P<value>.*)' is not one of: (?P<options>.*)\.", N_("“%(value)s” is not one of: %(options)s.")),
    (r"Not readable as GeoJSON: .*", N_("The polygon cannot be read as GeoJSON.")),
    (r"Must be a GeoJSON Polygon or MultiPolygon\.", N_("Must be a GeoJSON Polygon or MultiPolygon.")),
    (r"Not a readable \w+: .*", N_("The polygon cannot be read.")),
    (r"The polygon is empty\.", N_("The polygon is empty.")),
    (r"Coordinates must be WGS 84 .*",
     N_("Coordinates must be WGS 84 [longitude, latitude] within -180..180 and -90..90.")),
    (r"Invalid polygon: (?P<why>.*)\.", N_("Invalid polygon: %(why)s.")),
    (r"'(?P<value>.*)' appears twice in the file; first on row (?P<row>\d+)\.",
     N_("“%(value)s” appears twice in the file; first on row %(row)s.")),
    (r"Grid (?P<code>\S+) is a " + LEVEL + r"; the level of an existing grid cannot change\.",
     N_("Grid %(code)s is a %(level)s; the level of an existing grid cannot change.")),
    (r"A city \(level 0\) has no parent; .*", N_("A city has no parent; leave parent_code empty.")),
    (r"Required for a " + LEVEL + r"\.", N_("Required for a %(level)s.")),
    (r"No grid with code '(?P<code>.*)' in the database or in the file\.",
     N_("No grid with code %(code)s in the database or in the file.")),
    (r"A level (?P<own>\d) grid cannot sit under (?P<parent>\S+), a " + LEVEL + r": .*",
     N_("A %(own)s cannot sit under %(parent)s, a %(level)s.")),
    (r"Grid (?P<code>\S+) is a " + LEVEL + r"; a department's jurisdiction must be .*",
     N_("Grid %(code)s is a %(level)s; a department's jurisdiction must be a city or a town.")),
    (r"No grid with code '(?P<code>.*)'\.", N_("No grid with code %(code)s.")),
    (r"No department with code '(?P<code>.*)'\.", N_("No department with code %(code)s.")),
    (r"Required for a new user\.", N_("Required for a new user.")),
    (r"Only a grid_leader can lead a grid; this user is a (?P<role>\w+)\.",
     N_("Only a grid leader can lead a grid; this user is a %(role)s.")),
    (r"Leave empty for the role (?P<role>\w+)\.", N_("Leave empty for the role %(role)s.")),
    (r"Required for the role (?P<role>\w+)\.", N_("Required for the role %(role)s.")),
    (r"Grid (?P<code>\S+) already gets a leader on row (?P<row>\d+); .*",
     N_("Grid %(code)s already gets a leader on row %(row)s; a grid has one leader.")),
)
WHERE = re.compile(r"row (?P<row>\d+)\.(?P<field>.+)")


def translate(text: str) -> str:
    """One of the importer's messages in the reader's language; the English as it is for English readers."""
    if not chinese():
        return text
    for pattern, msgid in PATTERNS:
        found = re.fullmatch(pattern, text)
        if found:
            values = found.groupdict()
            for name in ("level", "own"):
                if name in values:
                    values[name] = labels.label("level", int(values[name]))
            if "role" in values:
                values["role"] = labels.label("role", values["role"])
            return _(msgid, **values)
    return _("This value is not valid (%(detail)s).", detail=text)


def table(errors: dict[str, list[str]]) -> list[dict]:
    """The problems as rows of a table: {row (None for the whole file), field, message}, in row order."""
    found = []
    for where, texts in errors.items():
        matched = WHERE.fullmatch(where)
        row, field = (int(matched["row"]), matched["field"]) if matched else (None, where)
        found += [{"row": row, "field": field, "message": translate(str(text))} for text in texts]
    return sorted(found, key=lambda problem: problem["row"] or 0)
