"""Browser tests: Debian's headless Chromium (installed by .ci/browser-deps) drives the app on a real server.

Each test gets its own server on a free port, over the same fresh database as the `app` fixture: a server
starts in milliseconds, and no test sees another's rows."""
import json
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update
from werkzeug.serving import make_server

from engine.imports import demo, nanan
from engine.store.model import Grid

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = HERE / "vendor" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"width": 375, "height": 667}
DESK = {"width": 1366, "height": 768}
SERIOUS = ("serious", "critical")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run .ci/browser-deps (as root it installs it)", pytrace=False)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ARGS}


@pytest.fixture(scope="session")
def base_url():
    """None: the base URL is each test's own server (and pytest-playwright's own one warns under pytest 9)."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Every page reads Chinese and Shanghai time."""
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 and a free port, served from a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # shutdown() waits for the server's next poll: half a second by default, on every test
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def phone(new_context, live_server):
    """A page at phone size (375x667), relative URLs going to the live server."""
    return new_context(viewport=PHONE, base_url=live_server, is_mobile=True, has_touch=True).new_page()


@pytest.fixture
def desk(new_context, live_server):
    """A page at a desk screen's size (1366x768), relative URLs going to the live server."""
    return new_context(viewport=DESK, base_url=live_server).new_page()


@pytest.fixture
def axe_check():
    """axe_check(page) -> the serious and critical axe-core violations on the page as it is (assert it is empty)."""
    return check_accessibility


def check_accessibility(page) -> list[dict]:
    # Evaluated rather than added as a <script> tag, so the pages' CSP does not block it.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [node["target"] for node in v["nodes"]]}
            for v in violations if v["impact"] in SERIOUS]


@pytest.fixture
def deps(app):
    """The demo grids with their Nan'an polygons, so that the map has something to draw and a tap finds a grid."""
    built = app.extensions["gridflow"]
    polygons = {row["code"]: json.dumps(row["polygon"]) for row in nanan.generate(demo.DEMO_PASSWORD).grids}
    with built.uow() as uow:
        for code, _name, _parent in demo.GRIDS:
            uow.session.execute(update(Grid).where(Grid.code == code).values(polygon=polygons[code]))
        uow.commit()
    return built


@pytest.fixture
def person(new_context, live_server, deps):
    """person('worker', PHONE) -> a signed-in page of that user, in a browser context of their own (the sign-in
    page's own checks are in test_sign_in.py)."""
    def sign_in(username, viewport=PHONE):
        phone = viewport == PHONE
        page = new_context(viewport=viewport, base_url=live_server, is_mobile=phone, has_touch=phone).new_page()
        page.goto("/signin")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.locator("h1")).not_to_have_text("登录")
        return page
    return sign_in
