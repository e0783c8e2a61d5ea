"""流程目录, the process catalogue for supervisors and administrators: each case type's diagrams, its routing and
time-limit tables in words, and its deployed versions with the open cases each holds in the reader's area."""
from flask import Blueprint, abort, jsonify, render_template, request

from engine.read import catalogue
from web import explain, labels, session
from web.session import signed_in

bp = Blueprint("catalogue", __name__)
READERS = ("supervisor", "admin")


def _reader():
    user = session.current_user()
    if user.role not in READERS:
        abort(404)
    return user


@bp.get("/catalogue")
@signed_in
def index():
    """Every case type with its versions and open cases."""
    types = catalogue.case_types(session.deps(), _reader())
    return render_template("catalogue.html", types=types, nav="catalogue")


@bp.get("/catalogue/<code>")
@signed_in
def case_type(code):
    """One case type: its diagrams, its decision tables in words, its versions."""
    deps = session.deps()
    found = catalogue.case_type(deps, _reader(), code)
    tables = [_in_words(t, deps.catalogue) for t in found["decisions"]]
    return render_template("catalogue_type.html", found=found, tables=tables, nav="catalogue",
                           title=labels.case_type(deps.catalogue, code))


@bp.get("/catalogue/<code>/diagrams.json")
@signed_in
def diagrams(code):
    """The type's diagrams as they stand now, or those of a deployed version (?version=id), for the viewer."""
    _reader()
    version = request.args.get("version", type=int)
    return jsonify({"diagrams": catalogue.type_diagrams(session.deps(), code, version)})


def _in_words(table: dict, types) -> dict:
    """A decision table with every cell in words; a rule's note only where it says more than its cells."""
    columns = [c["name"] for c in table["inputs"]] + [c["name"] for c in table["outputs"]]
    rows = []
    for rule in table["rules"]:
        cells = [explain.cell(column, text, types)
                 for column, text in zip(columns, rule["inputs"] + rule["outputs"], strict=False)]
        rows.append({"cells": cells, "description": "" if rule["description"] in cells else rule["description"]})
    return {**table, "rows": rows}
