"""What a page's form says, as the engine's plain values: a new case, a task's completion data.

The engine checks every rule (clean_form, file_case); this module only turns form strings into the types the
engine expects, and keeps what the user typed when it cannot (a "12x" in a number field goes through as
text, so the engine's own message says what is wrong with it)."""
import uuid

from flask import request

from engine.cases.services import NewCase
from engine.errors import ValidationError

TEXT_LIMITS = {"title": (1, 200), "description": (0, 4000)}  # as the API's CaseCreate


def new_key() -> str:
    """An Idempotency-Key for one report form: a double tap or a retry of it files once."""
    return uuid.uuid4().hex


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def new_case(form) -> NewCase:
    """A report from the report form; the place is the tapped or located point, else the reporter's grid."""
    errors = {}
    values = {name: form.get(name, "").strip() for name in ("type", "title", "description", "severity")}
    if not values["type"]:
        errors["type"] = ["Missing data for required field."]
    for name, (shortest, longest) in TEXT_LIMITS.items():
        if len(values[name]) < shortest:
            errors[name] = ["Missing data for required field."]
        elif len(values[name]) > longest:
            errors[name] = [f"Longer than maximum length {longest}."]
    lat, lng = form.get("lat", "").strip(), form.get("lng", "").strip()
    point = None
    if lat or lng:
        try:
            point = (float(lat), float(lng))
        except ValueError:
            errors["location"] = ["Give a grid code or a location."]
    if errors:
        raise ValidationError("the report is not complete", errors)
    return NewCase(type=values["type"], title=values["title"], description=values["description"],
                   severity=values["severity"] or "medium", lat=point[0] if point else None,
                   lng=point[1] if point else None)


def task_data(fields: list[dict], form) -> dict:
    """A task form's values by the catalogue's field kinds; empty fields are left out."""
    data = {}
    for f in fields:
        if f["kind"] == "multichoice":
            if f["name"] + "__present" in form or form.getlist(f["name"]):
                data[f["name"]] = form.getlist(f["name"])
            continue
        raw = form.get(f["name"], "").strip()
        if raw == "":
            continue
        if f["kind"] == "bool":
            data[f["name"]] = {"true": True, "false": False}.get(raw, raw)
        elif f["kind"] == "int":
            data[f["name"]] = int(raw) if raw.lstrip("-").isdigit() else raw
        else:
            data[f["name"]] = raw
    return data
