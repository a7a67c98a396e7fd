"""The web UI in a real browser: Playwright driving Debian's Chromium against a live sandbox.

The tests save screenshots of the catalogue, a live run and a report under
test-artifacts/screenshots/ (a CI artifact folder); with SANDBOX_UPDATE_SCREENSHOTS=1 they
write the committed copies in docs/screenshots/ instead, which a reviewer can look at
without running anything.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from tests.conftest import INNSENDING, basic

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parents[1] / (
    "docs/screenshots"
    if os.environ.get("SANDBOX_UPDATE_SCREENSHOTS")
    else "test-artifacts/screenshots"
)
ROOT = Path(__file__).parents[1]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("Debian's chromium is missing: .ci/run installs it with apt-get", pytrace=False)
    pytest.skip(
        "browser tests need Debian's chromium: apt-get install chromium", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


class Served:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.app.extensions["sandbox.engine"].dispose()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(
        create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'ui.db'}"})
    )
    yield server
    server.close()


def _page(browser: Browser, width: int = 1280, height: int = 900) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    return context.new_page()


def _start_client(page: Page) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BYGGESAK_BASE_URL": page.locator("#base-url").inner_text(),
        "BYGGESAK_USERNAME": page.locator("#username").inner_text(),
        "BYGGESAK_PASSWORD": page.locator("#password").inner_text(),
        "BYGGESAK_INNSENDINGSREFERANSER": ",".join(
            page.locator(".credentials code.ref").all_inner_texts()
        ),
        "BYGGESAK_POLL_INTERVAL": "0.2",
        "BYGGESAK_MAX_SECONDS": "120",
    }
    return subprocess.Popen(
        [sys.executable, "examples/reference_client/client.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_catalogue_run_live_verdicts_and_report(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _page(browser)
    page.goto(served.url)  # the root URL leads to the catalogue
    expect(page.get_by_role("heading", name="Scenarios", level=1)).to_be_visible()
    card = page.locator("#scenario-mangel-then-vedtak")
    expect(
        card.get_by_role("link", name="Mangel, supplering, then vedtak with vilkår")
    ).to_be_visible()
    expect(card.locator(".tag", has_text="supplering")).to_be_visible()
    page.screenshot(path=str(SHOTS / "catalogue.png"), full_page=True)

    # The YAML is one click away.
    card.get_by_role("link").first.click()
    page.get_by_text("Show the scenario file").click()
    expect(page.locator("#yaml pre")).to_contain_text("id: mangel-then-vedtak")
    page.go_back()

    # Start a run with the manual clock: base URL, credentials and reference on the page.
    page.locator("#poll-mangel-then-vedtak").fill("0.2")
    page.locator("#scenario-mangel-then-vedtak").get_by_role(
        "button", name=re.compile("Start a run")
    ).click()
    expect(page.get_by_role("heading", name=re.compile("Run run-"))).to_be_visible()
    expect(page.locator("#password")).to_have_text(re.compile(r".{20,}"))
    expect(page.locator("#example")).to_contain_text("/api/v1/kvittering?innsendingReferanse=AR")
    # The start answered with a redirect to the run's page: a reload starts no other run.
    run_url = page.url
    assert re.search(r"/ui/runs/run-[0-9a-f]+$", run_url), run_url
    client = _start_client(page)
    try:
        # The kommune journalfører: the case shows its saksnummer, the client fetches the kvittering.
        page.locator("#next-event").click()
        expect(page.locator("#timeline")).to_contain_text("fired")
        expect(page.locator(".milepael").first).to_have_text("MS")
        # Wait, as a person would, until the client has fetched its kvittering (the verdict
        # turns green by itself): moving the clock first would make the fetch a day late.
        expect(page.locator('[data-verdict="henter-kvittering"] td').nth(1)).to_have_text(
            "PASSED", timeout=20_000
        )
        # Advance the clock from the page: three working days later the mangel fires ...
        page.locator("#duration").fill("P3D")
        page.locator("#advance-clock").click()
        expect(page.locator("#virtual-now")).to_have_text("2025-03-06 10:00")
        expect(page.locator("#timeline tbody tr").nth(1)).to_contain_text("fired")
        # ... the client answers it (the live section updates by itself), then the vedtak.
        # A check reads the whole run, so while the run is live it is pending, not passed.
        expect(page.locator(".mangler-cell").first).to_contain_text("answered", timeout=20_000)
        expect(page.locator('[data-verdict="ekko-mangelid"] td').nth(1)).to_have_text("PENDING")
        expect(page.locator("#outcome")).to_contain_text("Not final")
        page.locator("#next-event").click()
        expect(page.locator("#timeline tbody tr").nth(2)).to_contain_text("fired")
        # The client stops once it has the vedtak and its letter; then the run is finished.
        client.wait(timeout=60)
        page.locator("#finish-run").click()
        expect(page.locator("#finished")).to_contain_text("This run is finished")
        expect(page.locator("#controls")).to_have_count(0)
        for verdict in (
            "henter-kvittering",
            "ekko-mangelid",
            "bruker-gjeldende-saksnummer",
            "svarer-strukturert",
            "henter-dokumenter",
            "poller-fornuftig",
        ):
            expect(page.locator(f'[data-verdict="{verdict}"] td').nth(1)).to_have_text(
                "PASSED", timeout=20_000
            )
        expect(page.locator("#score")).to_have_text("100 %")
        svg = page.locator("#sequence svg")
        expect(svg).to_be_visible()
        expect(svg.locator("text", has_text="POST /supplering")).to_have_count(1)
        expect(svg.locator("text", has_text="vedtak (vedtak)")).to_have_count(1)
        page.locator("details[id^=exchange-]").first.locator("summary").click()
        expect(page.locator("details[id^=exchange-][open] pre").first).to_contain_text(
            "Authorization: Basic klient-"
        )
        page.screenshot(path=str(SHOTS / "run.png"), full_page=True)
    finally:
        client.terminate()
        client.wait(timeout=10)

    # A report opens in the browser, in a tab of its own ...
    with page.context.expect_page() as tab_info:
        page.get_by_role("link", name="Markdown", exact=True).click()
    tab = tab_info.value
    tab.wait_for_load_state()
    assert (
        tab.url.endswith(".markdown") and "## byggesak-sandbox" in tab.locator("body").inner_text()
    )
    tab.close()
    # ... or downloads: the HTML report, opened offline.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the HTML report").click()
    report = tmp_path / "report.html"
    download_info.value.save_as(report)
    text = report.read_text("utf-8")
    assert "<svg" in text and "<script" not in text and "bestått" in text
    offline = _page(browser)
    offline.route(
        "**/*",
        lambda route: (
            route.abort() if not route.request.url.startswith("file:") else route.continue_()
        ),
    )
    offline.goto(report.as_uri())
    expect(offline.get_by_role("heading", name="byggesak-sandbox: bestått")).to_be_visible()
    offline.screenshot(path=str(SHOTS / "report.png"), full_page=True)


def test_a_new_run_is_pending_and_a_finished_one_is_read_only(
    browser: Browser, served: Served
) -> None:
    page = _page(browser)
    page.goto(f"{served.url}/ui/scenarios/mangel-then-vedtak")
    page.get_by_role("button", name="Start a run").click()
    expect(page.get_by_role("heading", name=re.compile("Run run-"))).to_be_visible()
    # Nothing has happened yet: nothing is decided, so there is no score to show.
    expect(page.locator("#score")).to_have_text("n/a")
    expect(page.locator("#coverage")).to_have_text("0 %")
    expect(page.locator("#outcome")).to_contain_text("Not final")
    cells = page.locator("#verdicts tbody tr td:nth-child(2)")
    run_id = page.locator("h1 code").inner_text()
    with served.app.test_client() as control:
        scored = control.get(f"/sandbox/runs/{run_id}/result").get_json()
    # The scenario's expectations and the default protocol checks it does not name itself.
    assert len(scored["verdicts"]) > 6
    expect(cells).to_have_count(len(scored["verdicts"]))
    assert {text.split()[0] for text in cells.all_inner_texts()} == {"PENDING"}
    expect(page.locator("#next-event")).to_be_visible()

    # Finished from outside (the CLI, the control plane): the open page drops its controls.
    with served.app.test_client() as control:
        assert control.post(f"/sandbox/runs/{run_id}/finish").status_code == 200
    expect(page.locator("#finished")).to_contain_text("This run is finished", timeout=10_000)
    for control_id in ("#controls", "#next-event", "#advance-clock", "#finish-run"):
        expect(page.locator(control_id)).to_have_count(0)
    expect(page.locator("#outcome")).to_contain_text("Not passed")
    states = {text.split()[0] for text in cells.all_inner_texts()}
    assert states <= {"INCOMPLETE", "SKIPPED"}
    expect(page.locator('[data-verdict="henter-kvittering"]')).to_contain_text(
        "the run finished before step 'journalfor' fired"
    )


def test_past_runs_and_a_run_page_shows_only_its_own_run(browser: Browser, served: Served) -> None:
    page = _page(browser)
    refs = []
    for seed in ("1", "2"):
        page.goto(f"{served.url}/ui/scenarios/happy-path")
        page.get_by_label("Seed").fill(seed)
        page.get_by_role("button", name="Start a run").click()
        refs.append(page.locator(".credentials code.ref").first.inner_text())
    first_run, second_run = page.locator("h1 code").inner_text(), None
    page.goto(f"{served.url}/ui/runs")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    second_run = rows.nth(1).locator("code").inner_text()
    page.goto(f"{served.url}/ui/runs/{second_run}")
    body = page.locator("main").inner_text()
    assert refs[0] != refs[1]
    assert refs[0] in body and refs[1] not in body
    assert first_run != second_run


def test_keyboard_and_phone(browser: Browser, served: Served) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone = _page(browser, 390, 844)
    phone.goto(f"{served.url}/ui/")
    # Tab from the top of the page to the first "Start a run" button and press Enter.
    for _ in range(40):
        phone.keyboard.press("Tab")
        focused = phone.evaluate("document.activeElement && document.activeElement.textContent")
        if focused and "Start a run" in focused:
            break
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", name=re.compile("Run run-"))).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the run page scrolls sideways on a phone ({width} px)"
    phone.screenshot(path=str(SHOTS / "run-phone.png"), full_page=False)


def test_everything_is_escaped(browser: Browser, tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    source = (ROOT / "scenarios" / "happy-path.yaml").read_text("utf-8")
    hostile = source.replace(
        "title: The happy path — kvittering, then vedtak in three weeks",
        'title: "<img src=x onerror=alert(1)><script>window.pwned=1</script>"',
    )
    (folder / "happy-path.yaml").write_text(hostile, "utf-8")
    server = Served(
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "SCENARIO_DIR": str(folder),
            }
        )
    )
    try:
        page = _page(browser)
        page.goto(f"{server.url}/ui/")
        expect(page.get_by_text("<script>window.pwned=1</script>", exact=False)).to_be_visible()
        assert page.evaluate("window.pwned") is None
        assert page.locator("main img").count() == 0
    finally:
        server.close()


def test_admin_token_is_asked_for(browser: Browser, tmp_path: Path) -> None:
    server = Served(
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
                "ADMIN_TOKEN": "hemmelig",
            }
        )
    )
    try:
        page = _page(browser)
        page.goto(f"{server.url}/ui/runs")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Administration token").fill("feil")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong administration token.")
        page.get_by_label("Administration token").fill("hemmelig")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    finally:
        server.close()


def test_another_sites_form_changes_nothing(browser: Browser, served: Served) -> None:
    """A page on another origin posts the UI's forms and the control plane's, as a forged
    request would: every one is refused, and the sandbox's own pages break no CSP rule."""
    page = _page(browser)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Security Policy" in m.text else None)
    page.goto(f"{served.url}/ui/scenarios/happy-path")
    page.get_by_role("button", name="Start a run").click()
    expect(page.locator("#next-event")).to_be_visible()
    run_id = page.locator("h1 code").inner_text()
    # The sequence diagram's inline style is allowed by the policy's hash.
    font = page.locator("#live svg text").first.evaluate("e => getComputedStyle(e).fontSize")
    assert font == "12px" and violations == []
    control = served.app.test_client()
    before = control.get(f"/sandbox/runs/{run_id}").json
    targets = [
        f"/ui/runs/{run_id}/advance",
        f"/ui/runs/{run_id}/finish",
        "/ui/runs",
        "/sandbox/runs",
        f"/sandbox/runs/{run_id}/finish",
    ]
    forms = "".join(
        f'<form id="f{n}" method="post" action="{served.url}{path}">'
        '<input name="duration" value="P10D"><input name="scenario" value="happy-path"></form>'
        for n, path in enumerate(targets)
    )

    def evil_site(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [f"<!doctype html><title>evil</title>{forms}".encode()]

    attacker = make_server("localhost", 0, evil_site, threaded=True)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    statuses = []
    try:
        other = page.context.new_page()  # same browser, so the sandbox's cookie is there
        for n in range(len(targets)):
            other.goto(f"http://localhost:{attacker.server_port}/")
            with other.expect_navigation(url=lambda u: u.startswith(served.url)) as answer:
                other.evaluate(f"document.getElementById('f{n}').submit()")
            response = answer.value
            assert response is not None
            statuses.append(response.status)
    finally:
        attacker.shutdown()
        attacker.server_close()
    assert statuses == [403] * len(targets)
    assert control.get(f"/sandbox/runs/{run_id}").json == before
    assert len(control.get("/sandbox/runs").json["runs"]) == 1  # type: ignore[index]


def test_a_tenant_sees_and_scores_its_own_runs_and_the_admin_sees_every_tenant(
    browser: Browser, tmp_path: Path
) -> None:
    """Two tenants with søknader; tenant A signs in, watches one of its runs, finishes it and
    sees its verdict; B's run is unknown to A; the admin sees both tenants."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    server = Served(
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'tenants.db'}",
                "ADMIN_TOKEN": "hemmelig",
            }
        )
    )
    admin = {"Authorization": "Bearer hemmelig"}
    password = "staging-secret-123"
    api = server.app.test_client()
    try:
        refs: dict[str, list[str]] = {"acme": [], "bravo": []}
        for name, count in (("acme", 2), ("bravo", 1)):
            # An hour of the kommune's time a second: it journalfører a second after the søknad.
            clock = {"mode": "accelerated", "factor": 3600}
            body = {"name": name, "password": password, "scenario": "happy-path", "clock": clock}
            assert api.post("/sandbox/tenants", json=body, headers=admin).status_code == 201
            for n in range(count):
                sent = api.post(
                    "/api/v1/innsending",
                    json={**INNSENDING, "tittel": f"{name} søknad {n}"},
                    headers=basic(name, password),
                )
                refs[name].append(sent.get_json()["innsendingReferanse"])
        runs = {
            name: api.get(f"/sandbox/tenants/{name}/runs", headers=admin).get_json()["runs"]
            for name in refs
        }

        page = _page(browser)
        page.goto(f"{server.url}/ui/tenant/login")
        page.get_by_label("Username").fill("acme")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="acme: your søknader")).to_be_visible()
        expect(page.locator("#tenant-runs tbody tr")).to_have_count(2)
        listed = page.locator("main").inner_text()
        assert all(ref in listed for ref in refs["acme"]) and refs["bravo"][0] not in listed

        # One of A's runs: its timeline, its exchanges, its verdicts pending while it is live.
        ref = refs["acme"][0]
        page.get_by_role("link", name=ref).click()
        expect(page.get_by_role("heading", name=re.compile("Run run-"))).to_be_visible()
        expect(page.locator("#expires")).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"))
        expect(page.locator("#next-event")).to_have_count(0)  # the clock runs by itself
        expect(page.locator("#timeline tbody tr").first).to_contain_text("fired", timeout=10_000)
        expect(page.locator("#outcome")).to_contain_text("Not final")
        expect(page.locator('[data-verdict="henter-vedtak"] td').nth(1)).to_have_text("PENDING")
        # The staging system fetches its kvittering with the tenant's credentials.
        got = api.get(
            f"/api/v1/kvittering?innsendingReferanse={ref}", headers=basic("acme", password)
        )
        assert got.status_code == 200, got.get_json()
        fetched = page.locator("details[id^=exchange-] summary", has_text="GET /api/v1/kvittering")
        expect(fetched).to_have_count(1, timeout=10_000)
        page.screenshot(path=str(SHOTS / "tenant-run.png"), full_page=True)

        # Finish and score now: the verdicts are final.
        page.get_by_role("button", name="Finish and score now").click()
        expect(page.locator("#finished")).to_contain_text("This run is finished")
        expect(page.locator('[data-verdict="henter-kvittering"] td').nth(1)).to_have_text("PASSED")
        expect(page.locator("#outcome")).not_to_contain_text("Not final")
        expect(page.locator("#outcome")).to_contain_text("Not passed")  # no vedtak was fetched
        with page.expect_popup() as report_tab:
            page.get_by_role("link", name="Markdown", exact=True).click()
        report_tab.value.wait_for_load_state()
        assert "## byggesak-sandbox" in report_tab.value.locator("body").inner_text()
        report_tab.value.close()

        # B's run, at A's URL for a run: as unknown as a run that does not exist.
        others = runs["bravo"][0]["id"]
        answer = page.goto(f"{server.url}/ui/tenant/runs/{others}")
        assert answer is not None and answer.status == 404
        expect(page.get_by_role("alert")).to_have_text(f"Kjøringen {others} finnes ikke.")
        # A tenant's session opens no admin page.
        page.goto(f"{server.url}/ui/runs/{others}")
        expect(page.get_by_label("Administration token")).to_be_visible()

        # The admin sees both tenants, each with its runs.
        desk = _page(browser)
        desk.goto(f"{server.url}/ui/runs")
        desk.get_by_label("Administration token").fill("hemmelig")
        desk.get_by_role("button", name="Sign in").click()
        desk.get_by_role("link", name="Tenants").click()
        expect(desk.get_by_role("heading", name="Tenants", level=1)).to_be_visible()
        for name, made in runs.items():
            section = desk.locator(f"#tenant-{name}")
            expect(section.locator("tbody tr")).to_have_count(len(made))
            for run in made:
                expect(section.get_by_role("link", name=run["id"])).to_be_visible()
        desk.screenshot(path=str(SHOTS / "tenants.png"), full_page=True)
        # The runs list names each run's tenant.
        desk.get_by_role("link", name="Runs", exact=True).click()
        expect(desk.locator("tbody tr", has_text="acme")).to_have_count(2)
        expect(desk.locator("tbody tr", has_text="bravo")).to_have_count(1)
    finally:
        server.close()
