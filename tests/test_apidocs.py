"""/docs in Chromium: Swagger UI, served by the sandbox itself, renders /openapi.json with
every path, fetches nothing from elsewhere, and its "try it" calls the API with a run's
credentials. (tests/test_openapi.py holds the examples to the schemas.)"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, expect

from tests.conftest import INNSENDING as CLIENT_INNSENDING
from tests.test_ui import SHOTS, Served, _page, browser

__all__ = ["browser"]  # the browser fixture, shared with test_ui


@pytest.fixture
def docs_server(tmp_path: Path) -> Iterator[Served]:
    from app import create_app

    server = Served(create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}))
    yield server
    server.close()


def test_docs_render_every_path_offline_and_try_it_out(
    browser: Browser, docs_server: Served
) -> None:
    url = docs_server.url
    run = requests.post(
        f"{url}/sandbox/runs",
        json={"innsending": CLIENT_INNSENDING, "clock": {"mode": "manual"}},
        timeout=10,
    ).json()
    reference = run["innsendingReferanser"][0]
    fired = requests.post(
        f"{url}/sandbox/runs/{run['id']}/events", json={"type": "journalfor"}, timeout=10
    )
    assert fired.status_code == 201, fired.text
    paths = requests.get(f"{url}/openapi.json", timeout=10).json()["paths"]

    page = _page(browser)
    page.set_default_timeout(10_000)
    elsewhere: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith((url, "data:")) else elsewhere.append(r.url)
    )
    page.goto(f"{url}/docs")
    shown = page.locator(".opblock-summary-path")
    shown.first.wait_for()
    assert set(shown.evaluate_all("els => els.map(e => e.dataset.path)")) == set(paths)

    page.locator(".auth-wrapper .authorize").click()
    basic = page.locator(".auth-container", has_text="runBasic")
    basic.locator("input").nth(0).fill(run["credentials"]["username"])
    basic.locator("input[type=password]").fill(run["credentials"]["password"])
    basic.locator("button[type=submit]").click()
    expect(basic.get_by_role("button", name="Remove authorization")).to_be_visible()
    page.locator(".modal-ux-header .close-modal").click()

    operation = page.locator(".opblock-get", has=page.locator('[data-path="/api/v1/kvittering"]'))
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("tr[data-param-name=innsendingReferanse] input").fill(reference)
    operation.get_by_role("button", name="Execute").click()
    live = operation.locator(".live-responses-table tbody .response")
    expect(live.locator(".response-col_status")).to_have_text("200")
    expect(live.locator(".response-col_description")).to_contain_text(reference)
    token = base64.b64encode(
        f"{run['credentials']['username']}:{run['credentials']['password']}".encode()
    ).decode()
    assert token in operation.locator(".curl-command").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    live.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "api-docs.png"), full_page=False)
    assert elsewhere == []
