"""The engine behind the admin pages: a year of the business calendar day by day, and an admin's password reset."""
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.errors import ConflictError, PermissionDenied, ValidationError
from engine.people import accounts, auth
from engine.sla import holidays
from engine.store.model import ApiToken
from tests.helpers import user_id


def day(view: dict, when: date) -> dict:
    return next(d for d in view["days"] if d["day"] == when)


def test_a_year_with_official_data_names_holidays_and_make_up_days(deps):
    view = holidays.year_view(deps, 2026)
    assert view["official"] and len(view["days"]) == 365
    assert day(view, date(2026, 10, 1)) == {
        "day": date(2026, 10, 1), "working": False, "kind": "holiday", "official": "holiday",
        "holiday": "National Day", "override": None, "reason": ""}
    assert day(view, date(2026, 9, 20))["kind"] == "makeup" and day(view, date(2026, 9, 20))["working"]
    assert day(view, date(2026, 9, 19))["kind"] == "weekend" and day(view, date(2026, 9, 19))["holiday"] is None


def test_a_year_without_official_data_has_weekends_and_overrides_only(deps):
    holidays.set_day(deps, date(2030, 2, 4), "holiday", "春节")
    holidays.set_day(deps, date(2030, 2, 2), "workday", "春节调休")
    view = holidays.year_view(deps, 2030)
    assert not view["official"]
    assert day(view, date(2030, 2, 4)) == {
        "day": date(2030, 2, 4), "working": False, "kind": "holiday", "official": None, "holiday": None,
        "override": "holiday", "reason": "春节"}
    assert day(view, date(2030, 2, 2))["kind"] == "makeup" and day(view, date(2030, 2, 3))["kind"] == "weekend"
    with pytest.raises(ValidationError):
        holidays.year_view(deps, 0)


def test_an_admin_resets_a_password_and_the_users_tokens_are_revoked(deps):
    auth.grant_token(deps, user_id(deps, "worker"), hours=1)
    typed = accounts.reset_password(deps, user_id(deps, "admin"), "worker", "Temp-2026-x")
    assert typed.generated is None and typed.tokens_revoked == 1
    assert auth.check_password(deps, "worker", "Temp-2026-x", "") == user_id(deps, "worker")
    made = accounts.reset_password(deps, user_id(deps, "admin"), "worker")
    assert len(made.generated) == 12 and auth.check_password(deps, "worker", made.generated, "")
    with deps.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ApiToken).where(
            ApiToken.user_id == user_id(deps, "worker"), ApiToken.revoked_at.is_(None))) == 0


def test_a_reset_is_refused_for_oneself_a_non_admin_and_a_weak_password(deps):
    with pytest.raises(ConflictError):
        accounts.reset_password(deps, user_id(deps, "admin"), "admin", "Temp-2026-x")
    with pytest.raises(PermissionDenied):
        accounts.reset_password(deps, user_id(deps, "supervisor"), "worker", "Temp-2026-x")
    with pytest.raises(ValidationError) as refused:
        accounts.reset_password(deps, user_id(deps, "admin"), "shuitou_worker", "Shuitou_Worker")
    assert refused.value.errors["password"] == ["Do not use the username as the password."]
