"""A tenant's login in the UI: its own credentials show its runs and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from app import create_app
from tests.conftest import INNSENDING, basic

PASSWORD = "acme-staging-secret-1"
ADMIN = {"Authorization": "Bearer tok"}


def _token(client: FlaskClient) -> str:
    page = client.get("/ui/tenant/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found is not None, page
    return found.group(1)


def test_a_tenant_sees_its_runs_only_and_no_admin_page(tmp_path: Path) -> None:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/u.db", "ADMIN_TOKEN": "tok"}
    )
    api = app.test_client()
    refs = {}
    for name in ("acme", "bravo"):
        body = {"name": name, "password": PASSWORD, "scenario": "happy-path"}
        assert api.post("/sandbox/tenants", json=body, headers=ADMIN).status_code == 201
        made = api.post("/api/v1/innsending", json=INNSENDING, headers=basic(name, PASSWORD))
        refs[name] = made.get_json()["innsendingReferanse"]
    browser = app.test_client()
    assert browser.get("/ui/tenant").status_code == 302  # no session yet: to the login
    forged = browser.post("/ui/tenant/login", data={"username": "acme", "password": PASSWORD})
    assert forged.status_code == 403  # no CSRF token
    token = _token(browser)
    wrong = browser.post(
        "/ui/tenant/login", data={"username": "acme", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    signed_in = browser.post(
        "/ui/tenant/login", data={"username": "acme", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    page = browser.get("/ui/tenant")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert refs["acme"] in text and refs["bravo"] not in text and "happy-path" in text
    # The tenant's session is no admin's: every other page asks for the token.
    for path in ("/ui/", "/ui/runs"):
        answer = browser.get(path)
        assert answer.status_code == 302 and "/ui/login" in answer.headers["Location"], path
    app.extensions["sandbox.auth_failures"].flush()
    with app.app_context():
        from app.store.auth_failures import tenant_tally_of
        from app.store.db import get_session

        tally = tenant_tally_of(get_session(), "acme")
        assert tally is not None and tally["count"] == 1
    app.extensions["sandbox.engine"].dispose()
