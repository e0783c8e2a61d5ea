"""Every string the pages show has a Chinese translation, every code a label, and the compiled catalogue is
the one its .po says."""
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from engine.cases.attachments import KINDS as ATTACHMENT_KINDS
from engine.people.access import ROLES
from engine.places.grid import LEVEL_NAMES
from engine.process.catalogue import SEVERITIES, department_kinds
from web import labels
from workflows import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_DIR = ROOT / "web" / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}
METHODS = [("web/**.py", "python"), ("web/templates/**.html", "jinja2"), ("api/messages.py", "python")]


def chinese():
    with open(CATALOGUE_DIR / "messages.po", "rb") as po:
        return read_po(po)


def test_every_string_of_the_pages_has_a_chinese_translation():
    catalogue = chinese()
    extracted = {msgid[0] if isinstance(msgid, tuple) else msgid
                 for _, _, msgid, *_ in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)}
    missing = []
    for msgid in sorted(extracted):
        message = catalogue.get(msgid)
        strings = message.string if message is not None and isinstance(message.string, tuple) else (
            message.string if message is not None else "",)
        if message is None or message.fuzzy or not all(strings):
            missing.append(msgid)
    assert missing == [], "run `make translations` and translate these in messages.po"


def test_the_compiled_catalogue_matches_its_source():
    with open(CATALOGUE_DIR / "messages.mo", "rb") as mo:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    assert compiled == {_key(m.id): _key(m.string) for m in chinese() if m.id}, "run `make translations` to compile"


def _bpmn(pattern: str) -> set[str]:
    return {found for path in (ROOT / "bpmn").rglob("*.bpmn") for found in re.findall(pattern, path.read_text())}


def _engine_event_kinds() -> set[str]:
    kinds = set()
    for path in (ROOT / "engine").rglob("*.py"):
        text = path.read_text()
        kinds |= set(re.findall(r'timeline\.append\([^)]*?now, [^,]+, "([a-z_]+)"', text, re.S))
        kinds |= set(re.findall(r'_record\(session, clock, now, "([a-z_]+)"\)', text))
    return kinds


def test_every_code_the_pages_show_has_a_label():
    statuses = {"reported", *(s for t in CATALOGUE.values() for s in (*t.statuses, *t.outcomes.values()))}
    choices = {c for t in CATALOGUE.values() for fields in t.forms.values() for f in fields for c in f.choices}
    tasks = _bpmn(r'<bpmn:userTask id="([a-z_]+)"')
    events = _bpmn(r'name="timeline" value="([a-z_]+)"') | _engine_event_kinds() | {
        "assigned", "delegated", "commented", "withdrawn", "escalate_now", "escalated", "responsibility_moved"}
    kinds = set(department_kinds(CATALOGUE))
    wanted = {"status": statuses, "choice": choices - kinds, "department_kind": kinds,
              "task": tasks, "event": events, "role": set(ROLES), "level": set(LEVEL_NAMES),
              "attachment": set(ATTACHMENT_KINDS), "severity": set(SEVERITIES), "type_help": set(CATALOGUE)}
    assert len(tasks) > 10 and len(events) > 20
    unlabelled = {group: sorted(codes - set(labels.GROUPS[group])) for group, codes in wanted.items()}
    assert {group: codes for group, codes in unlabelled.items() if codes} == {}


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value
