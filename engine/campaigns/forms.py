"""A campaign's form: fields of the task forms' kinds, plus counts (whole numbers summed up the grid tree) and
photos. Stored with the campaign as plain dicts; checked here when launched and on every submission."""
from engine.errors import ValidationError
from engine.process.catalogue import FormField, clean_form

KINDS = ("text", "count", "int", "bool", "choice", "multichoice", "photo")
NUMERIC = ("int", "count")  # summed up the tree in the progress roll-up
MAX_FIELDS = 30
MAX_PHOTOS = 9


def check(form: list) -> list[dict]:
    """The form as launched, normalised; raises ValidationError naming the bad field."""
    if not isinstance(form, list) or not form or len(form) > MAX_FIELDS:
        raise ValidationError("the form is not valid", {"form": [f"Give 1 to {MAX_FIELDS} fields."]})
    fields, names = [], set()
    for i, raw in enumerate(form):
        where = f"form.{i}"
        if not isinstance(raw, dict):
            raise ValidationError("the form is not valid", {where: ["Not a field."]})
        name, kind = str(raw.get("name") or "").strip(), raw.get("kind")
        title = str(raw.get("title") or "").strip()
        if not name.isidentifier() or name in names or len(name) > 40:
            raise ValidationError("the form is not valid", {where: ["Give each field a distinct name of letters, "
                                                                     "digits and underscores."]})
        if kind not in KINDS:
            raise ValidationError("the form is not valid", {where: [f"Kind must be one of: {', '.join(KINDS)}."]})
        if not title or len(title) > 100:
            raise ValidationError("the form is not valid", {where: ["Give the field a title (up to 100 characters)."]})
        choices = raw.get("choices") or []
        if kind in ("choice", "multichoice") and (not isinstance(choices, list) or not choices
                                                  or not all(isinstance(c, str) and c.strip() for c in choices)):
            raise ValidationError("the form is not valid", {where: ["A choice field needs its choices."]})
        names.add(name)
        fields.append({"name": name, "kind": kind, "title": title, "required": bool(raw.get("required", True)),
                       "choices": [c.strip() for c in choices] if kind in ("choice", "multichoice") else []})
    return fields


def form_fields(form: list[dict]) -> tuple[FormField, ...]:
    """The campaign's fields as task-form fields (photos are checked apart: they come as files)."""
    return tuple(FormField(f["name"], "int" if f["kind"] in NUMERIC else f["kind"], f["title"], f["title"],
                           required=f["required"], choices=tuple(f["choices"]), max_value=1_000_000)
                 for f in form if f["kind"] != "photo")


def clean(form: list[dict], data: dict, photos: int) -> dict:
    """A submission's data checked against the form; a required photo field needs at least one photo."""
    cleaned = clean_form(form_fields(form), data)
    if any(f["kind"] == "photo" and f["required"] for f in form) and photos == 0:
        name = next(f["name"] for f in form if f["kind"] == "photo" and f["required"])
        raise ValidationError("the form data is not valid", {name: ["Add at least one photo."]})
    if photos > MAX_PHOTOS:
        raise ValidationError("too many photos", {"photos": [f"At most {MAX_PHOTOS} photos."]})
    return cleaned


def totals(form: list[dict], data: dict) -> dict:
    """The numeric fields of a submission, as summed up the tree."""
    return {f["name"]: data[f["name"]] for f in form if f["kind"] in NUMERIC and isinstance(data.get(f["name"]), int)}
