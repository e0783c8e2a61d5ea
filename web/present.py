"""Engine data in plain words for the pages: timeline events as sentences, form values by their labels."""
from datetime import datetime

from flask_babel import gettext as _

from web import labels
from web.i18n import day, when


def value_text(field, value) -> str:
    """A completed form value as a person reads it: yes/no, a choice's label, the text itself."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "、".join(labels.choice(v) for v in value) or _("none")
    if field is not None and field.kind == "choice":
        return labels.choice(value)
    return str(value)


def form_summary(case_type, task_name: str, data: dict) -> list[tuple[str, str]]:
    """(field title, value) for each field a completion filled, in the form's order."""
    fields = case_type.form(task_name) if case_type else ()
    known = [(f, data[f.name]) for f in fields if f.name in data]
    return [(labels.field_title(f), value_text(f, v)) for f, v in known]


def timeline(case: dict, names: dict[str, str], catalogue, people: dict | None = None,
             images: frozenset = frozenset()) -> list[dict]:
    """The case's events, oldest first: when, who, what (in words) and the details worth showing; with
    `people` (read.dossier.people) the actor's department, with `images` (attachment ids) the photos each
    event brought, and always the local day it belongs to, for grouping."""
    case_type = catalogue.get(case["type"])
    people, shown = people or {}, []
    for event in case["timeline"]:
        payload, kind = event["payload"] or {}, event["kind"]
        who = names.get(event["actor"], event["actor"]) if event["actor"] not in (None, "system") else _("System")
        what = labels.label("event", kind)
        details: list[tuple[str, str]] = []
        task = labels.label("task", payload["task"]) if payload.get("task") in labels.TASKS else payload.get("title")
        if task:
            what = f"{what}：{task}"
        if kind == "completed":
            details = form_summary(case_type, payload.get("task", ""), payload.get("data") or {})
            details += [(_("Evidence"), a["filename"]) for a in payload.get("attachments", [])]
        elif kind == "commented":
            details = [(_("Comment"), payload.get("text", ""))]
        elif kind == "attached":
            details = [(labels.label("attachment", payload.get("kind")), payload.get("filename", ""))]
        elif kind == "filed" and payload.get("partner"):  # through Open311 with a partner key
            partner = payload["partner"]
            contact = " ".join(partner.get(k, "") for k in ("last_name", "first_name", "phone", "email")).strip()
            details = [(title, text) for title, text in (
                (_("Reported through"), partner.get("name", "")), (_("Address"), partner.get("address_string", "")),
                (_("Photo link"), partner.get("media_url", "")), (_("Contact"), contact)) if text]
        elif kind in ("deadline_set", "deadline_moved") and payload.get("due_at"):
            details = [(_("Due"), when(datetime.fromisoformat(payload["due_at"])))]
        if event["reason"] and event["reason"] != payload.get("title") and kind not in ("completed", "task_opened"):
            details.append((_("Reason") if kind not in ("deadline_set", "deadline_moved") else _("Time limit"),
                            event["reason"]))
        brought = [a["id"] for a in payload.get("attachments", [])] + (
            [payload["attachment"]] if kind == "attached" and payload.get("attachment") else [])
        shown.append({"at": event["at"], "who": who, "what": what, "details": details, "kind": kind,
                      "seq": event["seq"], "day": day(event["at"]),
                      "department": (people.get(event["actor"]) or {}).get("department"),
                      "photos": [i for i in brought if i in images]})
    return shown
