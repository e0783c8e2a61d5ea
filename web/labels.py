"""The one place every code shown to a person gets its label: statuses, severities, form choices, timeline
event kinds, tasks, roles, grid levels, department kinds, attachment and notice kinds.

Labels are English msgids translated by the zh_CN catalogue; case types and form field titles come from the
case-type catalogue itself (title_zh / title_en), which is where the workflows declare them."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

STATUSES = {
    "reported": _l("Reported"), "registering": _l("Awaiting registration"), "inspecting": _l("On-site inspection"),
    "stop_work": _l("Stop-work order"), "penalty": _l("Penalty"), "triage": _l("Triage"),
    "mediating": _l("Mediation"), "dispatching": _l("Awaiting dispatch"), "escalated": _l("Escalated"),
    "extension_review": _l("Extension under review"), "suspension_review": _l("Suspension under review"),
    "suspended": _l("Suspended"), "handling": _l("Being handled"), "verifying": _l("Awaiting verification"),
    "follow_up": _l("Follow-up visit"), "closed": _l("Closed"), "invalid": _l("Invalid"),
    "duplicate": _l("Duplicate"), "withdrawn": _l("Withdrawn"), "referred": _l("Referred to court"),
}
SEVERITIES = {"low": _l("Normal"), "medium": _l("Urgent"), "high": _l("Very urgent")}
CHOICES = {  # the values of the catalogue's choice fields
    "valid": _l("Valid"), "invalid": _l("Invalid"), "duplicate": _l("Duplicate"),
    "low": _l("Low"), "medium": _l("Medium"), "high": _l("High"),
    "feedback": _l("Report the result"), "return": _l("Return (not ours)"), "extend": _l("Ask for more time"),
    "suspend": _l("Suspend"),
}
DEPARTMENT_KINDS = {
    "police": _l("Police station"), "market": _l("Market supervision"), "judicial": _l("Judicial office"),
    "health": _l("Health centre"), "natural_resources": _l("Natural resources"),
    "urban_management": _l("Urban management"), "environment": _l("Environment"), "work_safety": _l("Work safety"),
    "petitions": _l("Petitions office"), "cdc": _l("Disease control (CDC)"), "mediation": _l("Mediation committee"),
}
TASKS = {
    "register_case": _l("Register"), "mediate_at_grid": _l("Mediate in the grid"),
    "mediate_at_village": _l("Mediate in the village"), "mediate_at_town": _l("Mediate at the judicial office"),
    "dispatch_case": _l("Dispatch"), "handle_case": _l("Handle"), "co_handle": _l("Co-handle"),
    "approve_extension": _l("Approve extension"), "approve_suspension": _l("Approve suspension"),
    "resume_case": _l("Resume"), "review_escalation": _l("Review escalation"),
    "verify_on_site": _l("Verify on site"), "follow_up": _l("Follow-up visit"), "inspect_site": _l("Inspect the site"),
    "issue_stop_work_order": _l("Issue stop-work order"), "impose_penalty": _l("Impose penalty"),
    "triage": _l("Triage"), "cdc_response": _l("CDC response"),
    "accept_assignment": _l("Take on the assignment"), "submit_assignment": _l("Fill in and submit"),
    "review_submission": _l("Review the submission")}
EVENTS = {
    "filed": _l("reported the matter"), "task_opened": _l("task opened"), "claimed": _l("claimed"),
    "released": _l("released"), "completed": _l("completed"), "closed": _l("case closed"),
    "task_cancelled": _l("task cancelled"), "attached": _l("attached a file"), "commented": _l("commented"),
    "assigned": _l("assigned"), "delegated": _l("delegated"), "migrated": _l("moved to a new process version"),
    "supervision_ordered": _l("supervision order issued"), "supervision_answered": _l("supervision order answered"),
    "supervision_overdue": _l("supervision order overdue"), "sla_warning": _l("time limit warning"),
    "sla_breached": _l("time limit exceeded"), "deadline_set": _l("time limit set"),
    "deadline_paused": _l("time limit paused"), "deadline_moved": _l("time limit moved"),
    "escalated": _l("escalated"), "escalate_now": _l("escalated now"),
    "responsibility_moved": _l("passed on"), "withdrawn": _l("withdrawn"), "dissatisfied": _l("resident dissatisfied"),
    "escalation_requested": _l("escalation requested"), "extended": _l("extension approved"),
    "extension_denied": _l("extension refused"), "police_called": _l("police called"), "reminded": _l("reminded"),
    "resumed": _l("resumed"), "returned": _l("returned"), "reworked": _l("sent back for rework"),
    "sla_escalated": _l("escalated on time limit"), "suspended": _l("suspended"),
    "suspension_denied": _l("suspension refused"), "unfounded": _l("found unfounded"),
    "campaign_finding": _l("found during a campaign")}
ROLES = {"grid_worker": _l("Grid worker"), "grid_leader": _l("Grid leader"), "liaison": _l("Liaison"),
         "supervisor": _l("Supervisor"), "admin": _l("Administrator")}
LEVELS = {0: _l("City"), 1: _l("Town"), 2: _l("Village"), 3: _l("Level-2 grid"), 4: _l("Unit grid")}
ATTACHMENT_KINDS = {"report": _l("Report photo"), "evidence_before": _l("Before"), "evidence_after": _l("After"),
                    "document": _l("Document")}
NOTICES = {"sla_warning": _l("Time limit warning"), "sla_breached": _l("Time limit exceeded"),
           "supervision_ordered": _l("Supervision order"), "supervision_overdue": _l("Supervision order overdue"),
           "task_assigned": _l("Task assigned to you"), "task_delegated": _l("Task delegated to you"),
           "webhook_paused": _l("Webhook paused"), "campaign_reminder": _l("Assignment reminder"),
           "campaign_overdue": _l("Assignment overdue")}
WEBHOOK_EVENTS = {"case.filed": _l("Case filed"), "case.status_changed": _l("Status changed"),
                  "task.assigned": _l("Task assigned"), "sla.warning": _l("Time limit warning"),
                  "sla.breached": _l("Time limit exceeded"), "supervision.ordered": _l("Supervision order"),
                  "case.closed": _l("Case closed")}
DELIVERY_STATUSES = {"pending": _l("Waiting to be sent"), "delivered": _l("Delivered"), "failed": _l("Failed"),
                     "active": _l("Active"), "paused": _l("Paused")}
TYPE_HELP = {  # one line under each case type on the report page
    "dispute": _l("Quarrels between neighbours, families or over land; say if anyone is threatened."),
    "illegal_construction": _l("Building without permission, on farmland or beyond the approved plan."),
    "public_health": _l("Illness in several households, fever, unsafe food or water."),
    "work_safety": _l("Gas leaks, fire risks, unsafe workshops or equipment."),
    "environment": _l("Dumped waste, smoke, dirty water, noise from works."),
    "rental_housing": _l("Rented rooms to register or check, unsafe rentals."),
    "floating_population": _l("People moving in or out who are not registered."),
    "petition": _l("A resident's request or complaint to the authorities."),
}
UNITS = {"working_hours": _l("working hours"), "working_days": _l("working days"), "natural_days": _l("natural days")}
CLOCK_LEVELS = {"ok": _l("On time"), "warning": _l("Due soon"), "breached": _l("Overdue"), "paused": _l("Paused"),
                "stopped": _l("Done in time")}
ORDER_STATUSES = {"open": _l("Awaiting answer"), "answered": _l("Answered")}
DIAGRAM_MARKS = {"done": _l("Done"), "open": _l("Open step"), "flows": _l("Path taken"), "warning": _l("Due soon"),
                 "breached": _l("Overdue"), "interrupted": _l("Interrupted")}
ASSIGNMENT_STATUSES = {"issued": _l("Issued, not taken on"), "accepted": _l("Taken on"),
                       "submitted": _l("Waiting for review"), "returned": _l("Sent back"), "approved": _l("Accepted"),
                       "cancelled": _l("Cancelled")}
CAMPAIGN_STATUSES = {"open": _l("Running"), "cancelled": _l("Cancelled"), "finished": _l("Finished")}
FIELD_KINDS = {"text": _l("Text"), "count": _l("Count"), "int": _l("Whole number"), "bool": _l("Yes or no"),
               "choice": _l("One choice"), "multichoice": _l("Several choices"), "photo": _l("Photos")}
RECURRENCES = {"weekly": _l("Every week"), "monthly": _l("Every month")}
PROGRESS = {"accepted": _l("All accepted"), "submitted": _l("All submitted"), "partial": _l("Partly submitted"),
            "overdue": _l("Late, not submitted"), "open": _l("Nothing submitted yet")}
CAMPAIGN_EVENTS = {"launched": _l("launched"), "cancelled": _l("cancelled"), "next_round": _l("next round launched"),
                   "accepted": _l("taken on"), "submitted": _l("submitted"), "returned": _l("sent back"),
                   "approved": _l("accepted"), "reminder": _l("reminder"), "overdue": _l("overdue"),
                   "finding": _l("matter found")}
INDICATORS = {  # engine/indicators/definitions.py, docs/indicators.md
    "register_on_time": _l("Registered on time"), "dispatch_on_time": _l("Dispatched on time"),
    "handle_rate": _l("Handling rate"), "handle_on_time": _l("Handled on time"), "close_rate": _l("Closure rate"),
    "close_on_time": _l("Closed on time"), "rework_rate": _l("Rework rate"), "return_rate": _l("Return rate"),
    "extension_rate": _l("Extension rate"), "supervision_rate": _l("Supervision rate"),
    "satisfaction": _l("Resident satisfaction"), "valid_report_rate": _l("Valid report rate"),
    "handle_hours": _l("Average handling time"), "close_hours": _l("Average time to close"),
    "overdue_open": _l("Overdue and still open"),
    "reported": _l("Reports filed"), "registered": _l("Registered"), "due_to_close": _l("Due to close"),
    "closed": _l("Closed cases"), "score": _l("Score"), "grade": _l("Grade"),
}
COUNTERS = {  # engine/indicators/definitions.py COUNTERS, as what a case was counted for (the search's "counted")
    "reported": _l("Cases reported"), "valid_reports": _l("Valid reports"),
    "reg_decided": _l("Registration decisions"), "registered": _l("Registrations"),
    "registered_on_time": _l("Registrations on time"), "supervised": _l("Supervised cases"),
    "dispatched": _l("Dispatches"), "dispatched_on_time": _l("Dispatches on time"),
    "due_to_handle": _l("Handling due"), "handled": _l("Handlings done"), "handled_on_time": _l("Handlings on time"),
    "returned": _l("Handlings returned"), "extended": _l("Handlings extended"), "reworked": _l("Handlings reworked"),
    "handle_minutes": _l("Handling time"), "due_to_close": _l("Closing due"), "closed": _l("Closings"),
    "closed_on_time": _l("Closings on time"), "close_minutes": _l("Time to close"),
    "overdue_open": _l("Open past the case limit"), "follow_ups": _l("Follow-up visits"),
    "satisfied": _l("Satisfied follow-ups"),
}
PERIODS = {"day": _l("Day"), "week": _l("Week"), "month": _l("Month"), "quarter": _l("Quarter"), "year": _l("Year")}
GROUPINGS = {"child": _l("Next level down"), "department": _l("Department"), "type": _l("Case type"),
             "worker": _l("Grid worker")}
GROUPS = {"status": STATUSES, "severity": SEVERITIES, "choice": CHOICES, "department_kind": DEPARTMENT_KINDS,
          "task": TASKS, "event": EVENTS, "role": ROLES, "level": LEVELS, "attachment": ATTACHMENT_KINDS,
          "notice": NOTICES, "type_help": TYPE_HELP, "unit": UNITS, "clock": CLOCK_LEVELS, "order": ORDER_STATUSES,
          "mark": DIAGRAM_MARKS, "webhook_event": WEBHOOK_EVENTS, "delivery": DELIVERY_STATUSES,
          "assignment": ASSIGNMENT_STATUSES, "campaign": CAMPAIGN_STATUSES, "field_kind": FIELD_KINDS,
          "recurrence": RECURRENCES, "progress": PROGRESS, "campaign_event": CAMPAIGN_EVENTS,
          "indicator": INDICATORS, "counter": COUNTERS, "period": PERIODS, "grouping": GROUPINGS}


def label(group: str, code) -> str:
    """The label of `code` in `group` in the current language; the code itself if it has none."""
    found = GROUPS[group].get(code)
    return str(found) if found is not None else str(code)


def choice(value: str) -> str:
    """A form choice: its own label, else a department kind's."""
    return label("choice", value) if value in CHOICES else label("department_kind", value)


def chinese() -> bool:
    return str(get_locale()).startswith("zh")


def case_type(catalogue, code: str) -> str:
    """A case type's name from the catalogue, in the current language."""
    found = catalogue.get(code)
    if found is None:
        return code
    return found.title_zh if chinese() else found.title_en


def field_title(field) -> str:
    """A form field's title from the catalogue (a FormField or its dict from the read queries)."""
    get = field.get if isinstance(field, dict) else lambda name: getattr(field, name)
    return get("title_zh") if chinese() else get("title_en")
