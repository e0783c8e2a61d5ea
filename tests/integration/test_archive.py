"""History that stays small: closed cases older than N months leave the hot tables for an archive file, whose
timelines still verify under the key; open and recent cases stay and still verify."""
import gzip
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from engine.cases import attachments, services
from engine.indicators import rollup
from engine.store import archive, timeline
from engine.store.model import Case
from tests.api.test_attachments import png
from tests.helpers import user_id


def rows_of(deps, case_ids) -> dict[str, int]:
    """How many rows each table that points at a case holds for these cases (and the cases themselves)."""
    with deps.uow() as uow:
        counts = {t.name: uow.session.scalar(select(func.count()).select_from(t).where(t.c.case_id.in_(case_ids)))
                  for t in archive.case_tables()}
        counts["cases"] = uow.session.scalar(select(func.count()).select_from(Case).where(Case.id.in_(case_ids)))
    return counts


def test_old_closed_cases_move_to_an_archive_that_still_verifies_and_the_rest_stays(app, clock, tmp_path):
    deps = app.extensions["gridflow"]
    worker = user_id(deps, "worker")
    clock.set(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
    old = [services.file_case(deps, worker, services.NewCase("dispute", f"旧纠纷 {i}")) for i in range(3)]
    attachments.upload_attachment(deps, worker, old[0], attachments.Upload("现场.png", png(1), "report"))
    for case_id in old[:2]:
        services.withdraw_case(deps, worker, case_id, "双方已和解")
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    recent = services.file_case(deps, worker, services.NewCase("dispute", "新纠纷"))
    services.withdraw_case(deps, worker, recent, "已解决")
    archived, kept = old[:2], [old[2], recent]

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["archive", "--months", "12", "--dry-run"])  # the indicators count them first
    assert dry.exit_code == 0 and dry.output.startswith("2 case(s) closed before 2025-11-2")
    before = rows_of(deps, archived)
    assert before["timeline_events"] >= 4 and before["attachments"] == 1 and before["tasks"] >= 2
    assert before["indicator_cases"] == 2
    done = runner.invoke(args=["archive", "--months", "12", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"2 case(s), {sum(before.values())} rows, closed before")
    [path] = tmp_path.glob("gridflow-archive-*.jsonl.gz")

    assert set(rows_of(deps, archived).values()) == {0}  # gone from every hot table
    with deps.uow() as uow:
        for case_id in kept:  # the open case and the recently closed one stay, whole
            assert timeline.verify(uow.session, case_id)["intact"]
    verified = runner.invoke(args=["verify-archive", str(path)])
    assert verified.exit_code == 0 and verified.output.strip() == "2 case(s): 2 intact, 0 broken"
    [first, second] = sorted(archive.read(path), key=lambda r: r["case"]["id"])
    assert first["case"]["id"] == archived[0] and len(first["attachments"]) == 1
    assert first["attachments"][0]["sha256"] and first["case"]["timeline_seal"]
    assert [e["seq"] for e in first["timeline_events"]] == list(range(1, first["case"]["timeline_seq"] + 1))

    nothing = runner.invoke(args=["archive", "--months", "12", "--out", str(tmp_path)])
    assert nothing.output.startswith("no case closed before") and len(list(tmp_path.glob("*.gz"))) == 1


def test_a_changed_archive_no_longer_verifies(app, clock, tmp_path):
    deps = app.extensions["gridflow"]
    worker = user_id(deps, "worker")
    case_id = services.file_case(deps, worker, services.NewCase("dispute", "纠纷"))
    services.withdraw_case(deps, worker, case_id, "双方已和解")
    clock.advance(seconds=timedelta(days=400).total_seconds())
    cutoff = clock.now() - timedelta(days=365)
    assert archive.archive(deps.sessions, cutoff, tmp_path)["cases"] == 0  # the indicators have not counted it
    rollup.catch_up(deps)
    done = archive.archive(deps.sessions, cutoff, tmp_path)
    assert done["cases"] == 1
    key = app.config["GRIDFLOW_SETTINGS"].chain_key
    assert archive.verify_file(key, done["file"]) == {"cases": 1, "intact": 1, "broken": {}}

    with gzip.open(done["file"], "rt", encoding="utf-8") as source:
        header, record = (json.loads(line) for line in source)
    record["timeline_events"][-1]["reason"] = "从未撤回"  # someone rewrites history in the archive
    changed = tmp_path / "changed.jsonl.gz"
    with gzip.open(changed, "wt", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n" + json.dumps(record, ensure_ascii=False) + "\n")
    result = archive.verify_file(key, changed)
    assert result["intact"] == 0 and "does not match its seal" in result["broken"][record["case"]["number"]]
    assert archive.verify_file(b"another key", done["file"])["intact"] == 0
