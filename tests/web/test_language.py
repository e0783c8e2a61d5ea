"""The pages' language: the signed-in user's setting first (on every browser they sign in on), then this browser's
choice, then Accept-Language, then Chinese; the API's messages follow the user's setting too."""
import re

from sqlalchemy import select

from engine.store.model import User
from tests.web.test_pages import words

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def locale_of(app, username: str):
    with app.extensions["gridflow"].uow() as uow:
        return uow.session.scalar(select(User.locale).where(User.username == username))


def test_a_users_language_follows_them_to_another_browser_before_its_accept_language(app, browser_as):
    phone = browser_as("worker")
    chosen = phone.post("/language", data={"lang": "en", "next": "/account", "csrf_token": phone.csrf})
    assert chosen.headers["Location"] == "/account" and locale_of(app, "worker") == "en"
    desk = browser_as("worker")
    assert "My reports" in words(desk.get("/my", headers={"Accept-Language": "zh-CN,zh;q=0.9"}))
    desk.post("/language", data={"lang": "zh_CN", "next": "/my", "csrf_token": desk.csrf})
    assert locale_of(app, "worker") == "zh_CN" and "我的上报" in words(phone.get("/my"))


def test_the_account_page_offers_the_language_and_a_choice_without_the_csrf_token_stays_on_this_browser(
        app, browser_as):
    worker = browser_as("worker")
    page = worker.get("/account").get_data(as_text=True)
    assert 'name="lang" value="en"' in page and 'action="/language"' in page
    worker.post("/language", data={"lang": "en", "next": "/my"})
    assert locale_of(app, "worker") is None  # a forged form cannot change the account
    assert "My reports" in words(worker.get("/my"))  # but this browser's cookie is set


def test_someone_not_signed_in_gets_the_cookie_then_accept_language_then_chinese(client):
    assert "登录" in words(client.get("/signin"))
    assert "Sign in" in words(client.get("/signin", headers={"Accept-Language": "en"}))
    client.post("/language", data={"lang": "zh_CN", "next": "/signin"})
    assert "登录" in words(client.get("/signin", headers={"Accept-Language": "en"}))


def test_the_api_answers_in_the_users_language_before_accept_language(app, browser_as, client, login):
    worker = browser_as("worker")
    worker.post("/language", data={"lang": "en", "next": "/my", "csrf_token": worker.csrf})
    headers = {**login("worker"), "Accept-Language": "zh-CN"}
    refused = client.post("/api/v1/cases", headers=headers, json={"type": "dispute", "title": "  "})
    assert refused.status_code == 422 and not CHINESE.search(refused.get_data(as_text=True))
    stranger = client.post("/api/v1/cases", headers={"Authorization": "Bearer nope", "Accept-Language": "zh-CN"},
                           json={})
    assert stranger.status_code == 401 and CHINESE.search(stranger.json["message"])
