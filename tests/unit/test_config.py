"""Settings come from the environment, with embedded defaults."""
from datetime import time
from pathlib import Path

from engine.bootstrap import office_hours
from engine.config import Settings


def test_defaults_use_sqlite_in_the_instance_folder_and_the_embedded_redis(tmp_path):
    settings = Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'gridflow.db'}"
    assert settings.embedded_redis and settings.secret_key == (tmp_path / "secret_key").read_text()
    assert Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path)}).secret_key == settings.secret_key


def test_office_hours_and_warning_fractions_are_configurable(tmp_path):
    settings = Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:6379/3",
                                  "GRIDFLOW_OFFICE_HOURS": "09:00-12:00,13:30-17:00", "GRIDFLOW_SLA_WARN_AT": "0.75"})
    assert office_hours(settings.office_hours) == ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 0)))
    assert settings.warn_at == "0.75" and not settings.embedded_redis


def test_attachments_live_in_the_instance_folder_unless_told_otherwise(tmp_path):
    settings = Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path)})
    assert settings.attachments_dir == tmp_path / "attachments"
    assert (settings.attachment_max_bytes, settings.attachments_per_case) == (10 * 1024 * 1024, 50)
    settings = Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path), "GRIDFLOW_ATTACHMENTS_DIR": "/srv/files",
                                  "GRIDFLOW_ATTACHMENT_MAX_MB": "2.5", "GRIDFLOW_ATTACHMENTS_PER_CASE": "8"})
    assert settings.attachments_dir == Path("/srv/files")
    assert (settings.attachment_max_bytes, settings.attachments_per_case) == (int(2.5 * 1024 * 1024), 8)


def test_token_lifetime_https_and_trusted_proxies_are_settings(tmp_path):
    defaults = Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path)})
    assert (defaults.token_hours, defaults.https, defaults.proxy_hops) == (720, False, 0)
    settings = Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path), "GRIDFLOW_TOKEN_HOURS": "12",
                                  "GRIDFLOW_HTTPS": "1", "GRIDFLOW_PROXY_HOPS": "2"})
    assert (settings.token_hours, settings.https, settings.proxy_hops) == (12, True, 2)


def test_the_timeline_key_comes_from_its_setting_or_from_the_secret_key_and_can_be_pinned(tmp_path):
    derived = Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path), "SECRET_KEY": "s1"}).chain_key
    assert derived != Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path), "SECRET_KEY": "s2"}).chain_key
    pinned = Settings.from_env({"GRIDFLOW_INSTANCE": str(tmp_path), "SECRET_KEY": "s2",
                                "GRIDFLOW_TIMELINE_KEY": derived.decode()})
    assert pinned.chain_key == derived  # SECRET_KEY changed, the timelines still verify
