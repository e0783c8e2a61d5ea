"""Page tests through Flask's test client: a signed-in browser is a client holding the session cookie."""
import re

import pytest

from engine.imports import demo


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def browser_as(app):
    """browser_as('worker') -> a test client signed in through the sign-in page, and its CSRF token."""
    def sign_in(username: str):
        client = app.test_client()
        response = client.post("/signin", data={"username": username, "password": demo.DEMO_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        with client.session_transaction() as session:
            client.csrf = session["csrf"]
        return client
    return sign_in
