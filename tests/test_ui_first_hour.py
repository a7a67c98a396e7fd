"""The UI as a vendor meets it in the first hour, in Chromium: starting a run redirects (a
reload starts no other), the on_poll clock is offered, the clock select stays inside its
card, the phone layout fits, exchange bodies are indented and all of them can be seen,
the favicon exists, and the timeline says what the kommune waits for from the client."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from playwright.sync_api import Browser, Page, expect

from tests.test_ui import Served, _page, browser, served

__all__ = ["browser", "served"]  # fixtures shared with test_ui


def _start(page: Page, served: Served, scenario: str, clock: str = "manual") -> str:
    page.goto(f"{served.url}/ui/")
    card = page.locator(f"#scenario-{scenario}")
    card.locator("select[name=clock]").select_option(clock)
    card.get_by_role("button", name=re.compile("Start a run")).click()
    expect(page.get_by_role("heading", name=re.compile("Run run-"))).to_be_visible()
    return str(page.locator("h1 code").inner_text())


def test_a_started_run_redirects_and_a_reload_starts_no_other(
    browser: Browser, served: Served
) -> None:
    page = _page(browser)
    run_id = _start(page, served, "happy-path", clock="on_poll")
    assert page.url.endswith(f"/ui/runs/{run_id}")
    expect(page.locator("#password")).to_have_text(re.compile(r".{20,}"))
    page.reload()
    expect(page.locator("#password")).to_have_count(0)  # shown once, as before
    page.goto(f"{served.url}/ui/runs")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("on_poll")
    assert page.request.get(f"{served.url}/favicon.ico").status == 200


def test_the_clock_select_stays_in_its_card_and_the_phone_layout_fits(
    browser: Browser, served: Served
) -> None:
    for width in (1280, 390):
        page = _page(browser, width, 844)
        page.goto(f"{served.url}/ui/")
        sticking_out = page.evaluate(
            """() => [...document.querySelectorAll('.card')].flatMap(card => {
                 const edge = card.getBoundingClientRect().right;
                 return [...card.querySelectorAll('select, input, button')]
                   .filter(e => e.getBoundingClientRect().right > edge + 0.5).map(e => e.id);
               })"""
        )
        assert sticking_out == [], (width, sticking_out)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    # One start form a scenario in the library, each offering on_poll.
    library = len(list((Path(__file__).parents[1] / "scenarios").glob("*.yaml")))
    expect(page.locator("select[name=clock] option[value=on_poll]")).to_have_count(library)


def test_exchanges_are_readable_all_can_be_seen_and_the_wait_is_said(
    browser: Browser, served: Served
) -> None:
    page = _page(browser)
    run_id = _start(page, served, "mangel-then-vedtak")
    user = page.locator("#username").inner_text()
    password = page.locator("#password").inner_text()
    reference = page.locator(".credentials code.ref").first.inner_text()
    page.locator("#next-event").click()  # journalføring
    expect(page.locator("#timeline tbody tr").first).to_contain_text("fired")
    with requests.Session() as client:
        client.auth = (user, password)
        for n in range(45):  # 45 different questions: identical polls would fold into one
            got = client.get(
                f"{served.url}/api/v1/kvittering",
                params={"innsendingReferanse": reference, "n": str(n)},
                timeout=10,
            )
            assert got.status_code == 200
    page.locator("#next-event").click()  # the mangel; the vedtak waits for a supplering
    expect(page.locator("#timeline tbody tr").nth(1)).to_contain_text("fired")
    expect(page.locator("#waiting")).to_contain_text("Waiting for your client (supplering_mottatt)")
    expect(page.locator("#timeline tbody tr").nth(2)).to_contain_text(
        "waiting for your client: supplering_mottatt"
    )
    exchange = page.locator("details[id^=exchange-]").last
    exchange.locator("summary").click()
    body = exchange.locator("pre").nth(1).inner_text()
    assert '\n  "metadata": {\n' in body  # indented, one key a line
    page.locator("#all-exchanges").click()
    expect(page.get_by_role("heading", name=re.compile(f"Exchanges of {run_id}"))).to_be_visible()
    expect(page.locator("details[id^=exchange-]")).to_have_count(45)
