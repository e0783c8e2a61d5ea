"""Versions: a changed diagram is a new version; running cases stay on theirs until a checked migration."""
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.cases import deploy, services
from engine.process.catalogue import CaseType, FormField
from engine.store.model import Case, ProcessVersion, TimelineEvent
from tests.helpers import open_task, user_id

TINY = Path(__file__).resolve().parents[1] / "workflow" / "fixtures" / "tiny.bpmn"


@pytest.fixture
def tiny(deps, tmp_path):
    """A case type whose diagram the test rewrites, like an operator deploying a new version."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    shutil.copy(TINY, folder / "tiny.bpmn")
    deps.catalogue = {**deps.catalogue, "tiny": CaseType(
        code="tiny", process_id="tiny", title_zh="测试", title_en="Test", open311_code="T", folder=str(folder),
        forms={"approve": (FormField("approved", "bool", "同意", "Approved"),)})}
    return folder / "tiny.bpmn"


def rewrite(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def file_tiny(deps) -> int:
    return services.file_case(deps, user_id(deps, "admin"),
                              services.NewCase(type="tiny", title="t", grid_code="350583106201-06-01"))


def version_of(deps, case_id) -> str:
    with deps.uow() as uow:
        return uow.session.scalar(select(ProcessVersion.content_hash).join(Case).where(Case.id == case_id))


def test_a_changed_diagram_is_a_new_version_once_deployed_and_running_cases_stay_on_theirs(deps, tiny):
    first = file_tiny(deps)
    rewrite(tiny, 'name="Approve"', 'name="Approve it"')
    assert version_of(deps, file_tiny(deps)) == version_of(deps, first)  # filing reads no file: not deployed yet
    deploy.deploy(deps)
    second = file_tiny(deps)
    assert version_of(deps, first) != version_of(deps, second)
    services.complete_task(deps, user_id(deps, "admin"), open_task(deps, first, "approve").id,
                           {"approved": False})
    with deps.uow() as uow:
        assert uow.session.get(Case, first).outcome == "rejected"


def test_a_compatible_change_moves_open_cases_and_says_so_on_the_timeline(deps, tiny):
    case_id = file_tiny(deps)
    rewrite(tiny, 'name="Approve"', 'name="Approve it"')
    dry = deploy.migrate_cases(deps, "tiny", dry_run=True)
    assert dry.moved == [load(deps, case_id).number] and dry.blocked == {}
    assert "Approve it" not in open_task(deps, case_id).title
    report = deploy.migrate_cases(deps, "tiny")
    assert report.moved == [load(deps, case_id).number]
    assert version_of(deps, case_id).startswith(report.to_version)
    assert open_task(deps, case_id, "approve").title == "Approve it"
    with deps.uow() as uow:
        kinds = uow.session.scalars(select(TimelineEvent.kind).where(TimelineEvent.case_id == case_id)).all()
    assert "migrated" in kinds


def test_an_incompatible_change_leaves_the_case_and_names_the_reason(deps, tiny):
    case_id = file_tiny(deps)
    before = version_of(deps, case_id)
    for old, new in (('id="approve" name', 'id="approve_v2" name'), ('Ref="approve"', 'Ref="approve_v2"'),
                     ('>approve<', '>approve_v2<')):
        rewrite(tiny, old, new)
    report = deploy.migrate_cases(deps, "tiny")
    number = load(deps, case_id).number
    assert report.moved == [] and any("approve (ready)" in reason for reason in report.blocked[number])
    assert version_of(deps, case_id) == before
    assert open_task(deps, case_id, "approve").status == "open"


def load(deps, case_id) -> Case:
    with deps.uow() as uow:
        return uow.session.get(Case, case_id)
