"""Reading import files: CSV and GeoJSON into numbered rows, and the checks made on one value at a time.

Row numbers are the ones a person sees: in a CSV the header is row 1 and the first data row is row 2 (a
spreadsheet's numbering, blank lines included); in GeoJSON the first feature is row 1.
"""
import csv
import io
import json
import math
import re

import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from engine.errors import ValidationError
from engine.people.access import ROLES

KINDS = ("grids", "departments", "users")
COLUMNS = {  # the file's columns, and whether each must be present
    "grids": {"code": True, "name": True, "level": True, "parent_code": False},
    "departments": {"code": True, "name": True, "kind": True, "grid_code": True},
    "users": {"username": True, "display_name": True, "role": True, "grid_code": False,
              "department_code": False, "password": False, "phone": False, "leader": False},
}
GEOJSON_KINDS = ("grids",)
FLAGS = {"true": True, "yes": True, "1": True, "是": True, "false": False, "no": False, "0": False, "否": False}


class Problems:
    """Every problem found in a file, keyed "row N.field"; raised together as one ValidationError."""

    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, row: int | None, field: str, message: str) -> None:
        key = field if row is None else f"row {row}.{field}"
        self.errors.setdefault(key, []).append(message)

    def has(self, row: int, field: str) -> bool:
        return f"row {row}.{field}" in self.errors

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        """Raise ValidationError("the file has N problems") when anything was found."""
        count = sum(len(messages) for messages in self.errors.values())
        if count:
            noun = "problem" if count == 1 else "problems"
            raise ValidationError(f"the file has {count} {noun}", dict(sorted(self.errors.items(), key=_row_order)))


def _row_order(item: tuple[str, list]) -> int:
    where = item[0]
    return int(where[4:where.index(".")]) if where.startswith("row ") else 0


def read_file(kind: str, filename: str, content: bytes, problems: Problems) -> list[tuple[int, dict]]:
    """The file's rows as (row number, {column: value}), CSV or GeoJSON by extension or content.

    Raises ValidationError when the file cannot be read at all; problems with single rows go to `problems`.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(f"The file is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                          "save it as 'CSV UTF-8'.") from exc
    if _is_geojson(filename, text):
        if kind not in GEOJSON_KINDS:
            raise _file_error(f"{kind.capitalize()} are imported from CSV only.")
        return _read_geojson(text, problems)
    return _read_csv(kind, text, problems)


def _is_geojson(filename: str, text: str) -> bool:
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return False
    return name.endswith((".geojson", ".json")) or text.lstrip().startswith("{")


def _file_error(message: str) -> ValidationError:
    return ValidationError(message[0].lower() + message[1:], {"file": [message]})


def _read_csv(kind: str, text: str, problems: Problems) -> list[tuple[int, dict]]:
    try:
        records = [(number, cells) for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1)
                   if any(cell.strip() for cell in cells)]
    except csv.Error as exc:
        raise _file_error(f"The file is not readable as CSV: {exc}.") from exc
    if not records:
        raise _file_error("The file is empty; it needs a header row and data rows.")
    (header_row, header), data = records[0], records[1:]
    columns = _check_header(kind, header_row, [cell.strip().lower() for cell in header], problems)
    rows = []
    for number, cells in data:
        if any(cell.strip() for cell in cells[len(columns):]):
            problems.add(number, "cells", f"The row has {len(cells)} cells but the header has {len(columns)}.")
        rows.append((number, {column: cells[i] if i < len(cells) else ""
                              for i, column in enumerate(columns) if column is not None}))
    return rows


def _check_header(kind: str, row: int, header: list[str], problems: Problems) -> list[str | None]:
    """The header's columns, None for those to skip; a missing column stops the import at once."""
    known, columns = COLUMNS[kind], []
    for position, column in enumerate(header):
        if column and column not in known:
            problems.add(row, column, f"Unknown column; the columns are: {', '.join(known)}.")
        elif column and column in header[:position]:
            problems.add(row, column, "The column appears twice.")
        columns.append(column if column in known and column not in header[:position] else None)
    missing = [column for column, required in known.items() if required and column not in header]
    for column in missing:
        problems.add(row, column, "Missing column.")
    if missing:  # every row would repeat it
        problems.raise_if_any()
    return columns


def _read_geojson(text: str, problems: Problems) -> list[tuple[int, dict]]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise _file_error(f"The file is not readable as JSON: {exc}.") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise _file_error("A GeoJSON file must be a FeatureCollection with a list of features.")
    rows = []
    for number, feature in enumerate(document["features"], start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            problems.add(number, "properties", "Each feature needs an object of properties.")
            continue
        if feature.get("geometry") is None:
            problems.add(number, "geometry", "A Polygon or MultiPolygon geometry is required.")
            continue
        rows.append((number, {**feature["properties"], "polygon": feature["geometry"]}))
    return rows


def clean(kind: str, rows: list[tuple[int, dict]], problems: Problems, department_kinds: tuple[str, ...]) -> list[dict]:
    """Each row's values checked one by one; a clean row holds its number under "row" and no bad values.

    A department's kind must be one of `department_kinds`, the ones the case-type catalogue names."""
    checks, cleaned = CHECKS[kind], []
    if kind == "departments":
        checks = {**checks, "kind": _required(_choice(department_kinds))}
    for number, raw in rows:
        row = {"row": number}
        for column, value in raw.items():
            if column not in checks:
                problems.add(number, column, f"Unknown column; the columns are: {', '.join(COLUMNS[kind])}.")
                continue
            try:
                row[column] = checks[column](value)
            except ValueError as exc:
                problems.add(number, column, str(exc))
        for column, required in COLUMNS[kind].items():
            if required and column not in raw:
                problems.add(number, column, "Required.")
        cleaned.append(row)
    return cleaned


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    try:
        text.encode()  # a lone surrogate from a JSON escape ("\ud800") cannot be stored
    except UnicodeEncodeError:
        raise ValueError("Must be text without unpaired surrogates (\\ud800-\\udfff).") from None
    if "\x00" in text:  # PostgreSQL cannot store it
        raise ValueError("Must not contain the NUL character.")
    return text


def _required(check):
    def checked(value):
        value = _text(value)
        if not value:
            raise ValueError("Required.")
        return check(value)
    return checked


def _optional(check):
    def checked(value):
        value = _text(value)
        return check(value) if value else None
    return checked


def _pattern(regex: str, rule: str):
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not valid: {rule}.")
        return value
    return check


def _length(longest: int, shortest: int = 1):
    def check(value: str) -> str:
        if not shortest <= len(value) <= longest:
            raise ValueError(f"Must be {shortest} to {longest} characters long.")
        return value
    return check


def _choice(options):
    def check(value: str) -> str:
        if value not in options:
            raise ValueError(f"{value!r} is not one of: {', '.join(options)}.")
        return value
    return check


def _level(value: str) -> int:
    if value not in ("0", "1", "2", "3", "4"):
        raise ValueError(f"{value!r} is not a level: 0 city, 1 town, 2 village, 3 level-2 grid, 4 unit grid.")
    return int(value)


def _flag(value: str) -> bool:
    if value.lower() not in FLAGS:
        raise ValueError(f"{value!r} is not one of: true, false, yes, no, 1, 0, 是, 否 (or empty).")
    return FLAGS[value.lower()]


def polygon(value) -> str | None:
    """A valid WGS 84 Polygon or MultiPolygon (a GeoJSON dict or its text) as compact GeoJSON text."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"Not readable as GeoJSON: {exc}.") from exc
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("Must be a GeoJSON Polygon or MultiPolygon.")
    try:
        geometry = shape(value)
    except (ValueError, TypeError, KeyError, IndexError, shapely.errors.ShapelyError) as exc:
        raise ValueError(f"Not a readable {value['type']}: {exc}.") from exc
    if geometry.is_empty:
        raise ValueError("The polygon is empty.")
    west, south, east, north = geometry.bounds
    if not all(map(math.isfinite, geometry.bounds)) or west < -180 or east > 180 or south < -90 or north > 90:
        raise ValueError("Coordinates must be WGS 84 [longitude, latitude] within -180..180 and -90..90.")
    if not geometry.is_valid:
        raise ValueError(f"Invalid polygon: {explain_validity(geometry)}.")
    return json.dumps({"type": value["type"], "coordinates": value["coordinates"]}, separators=(",", ":"))


GRID_CODE = _pattern(r"[0-9A-Za-z-]{1,32}", "1 to 32 letters, digits or '-'")
DEPARTMENT_CODE = _pattern(r"[0-9A-Za-z_-]{1,40}", "1 to 40 letters, digits, '_' or '-'")
NAME = _required(_length(100))

CHECKS = {
    "grids": {"code": _required(GRID_CODE), "name": NAME, "level": _required(_level),
              "parent_code": _optional(GRID_CODE), "polygon": polygon},
    "departments": {"code": _required(DEPARTMENT_CODE), "name": NAME,  # and "kind", checked in clean()
                    "grid_code": _required(GRID_CODE)},
    "users": {"username": _required(_pattern(r"[A-Za-z0-9_.-]{1,64}", "1 to 64 letters, digits, '_', '.' or '-'")),
              "display_name": NAME, "role": _required(_choice(ROLES)), "grid_code": _optional(GRID_CODE),
              "department_code": _optional(DEPARTMENT_CODE), "password": _optional(_length(200, 8)),
              "phone": _optional(_pattern(r"[0-9+() -]{1,32}", "up to 32 digits, spaces, '+', '-' or brackets")),
              "leader": _optional(_flag)},
}
