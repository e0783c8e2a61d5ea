"""Migration 0012 compresses every case's saved workflow in place, and its downgrade gives the text back: a case
filed before it goes on after it. Runs on the suite's database (SQLite or PostgreSQL), back to 0011 and up again."""
import json

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from engine.cases import services
from engine.store import db
from tests.helpers import open_task, user_id

DISPUTE = services.NewCase(type="dispute", title="邻里纠纷", severity="medium")


def migrate(engine, to: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as connection:
        config.attributes.update(connection=connection, timeline_key=None)
        (command.upgrade if to == "head" else command.downgrade)(config, to)


def stored(engine, case_id):
    with engine.connect() as connection:
        return connection.execute(text("SELECT state FROM cases WHERE id = :id"), {"id": case_id}).scalar_one()


def test_a_case_filed_before_the_compression_goes_on_after_it(deps, clean_db):
    case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    compressed = bytes(stored(clean_db, case_id))
    migrate(clean_db, "0011")
    try:
        plain = stored(clean_db, case_id)
        assert isinstance(plain, str) and json.loads(plain)["tasks"]  # the workflow as JSON text again
        assert len(compressed) * 3 < len(plain.encode())
    finally:
        migrate(clean_db, "head")
    assert bytes(stored(clean_db, case_id)) == compressed  # the same bytes: level 1, the same text
    task = open_task(deps, case_id, "register_case")
    services.complete_task(deps, user_id(deps, "leader"), task.id,
                           {"decision": "valid", "risk": "low", "violence": False})
    assert open_task(deps, case_id).name != "register_case"
