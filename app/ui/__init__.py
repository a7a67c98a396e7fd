"""The web UI: scenario catalogue, starting and watching runs, verdicts and reports.

Server-rendered pages over the same run engine, scoring and reports as the control API and
the CLI — no second source of truth. A little JavaScript refreshes the live part of a run
page every second; without it the pages still work. Everything is served by the sandbox
itself (no CDN), and when SANDBOX_ADMIN_TOKEN is set the UI asks for it.
"""

from __future__ import annotations

import hmac
import json
import math
import time
from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from app import vocabulary
from app.config import engine_config
from app.control import actions, listing
from app.control.actions import caught_up
from app.control.runs import summary
from app.domain.plain import to_plain
from app.engine.clock import clock_of
from app.engine.reads import load_sak
from app.errors import RequestError
from app.reports import MEDIA_TYPES, RENDERERS
from app.reports.html import sequence_svg
from app.scenarios.registry import get_registry
from app.scoring.result import combine, score_run
from app.scoring.tally import percent
from app.store import journal_reads
from app.store.auth_failures import tally_of
from app.store.db import get_session
from app.store.journal_reads import entry_json as journal_json
from app.store.models import Run
from app.ui import session as ui_session
from app.ui import tenant_pages
from app.vocabulary import CLIENT_ACTIONS, form_clock_modes
from app.wire.dates import iso
from app.wire.inputs import RunCreateSchema

bp = Blueprint(
    "ui",
    __name__,
    url_prefix="/ui",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
CLOCK_MODES = form_clock_modes()
SUFFIX = {"json": "json", "junit": "xml", "html": "html", "markdown": "md"}
# What a browser shows rather than downloads; Markdown as text/markdown would download.
SHOWN_AS = {"markdown": "text/plain"}
RECENT_EXCHANGES = 40
PASSWORD_COOKIE = "byggesak_sandbox_new_run"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@bp.before_request
def _guard() -> WerkzeugResponse | tuple[str, int] | None:
    """Ask for the admin token when one is set; refuse forged forms (app.ui.session)."""
    if request.endpoint == "ui.static":
        return None
    if request.endpoint in tenant_pages.ENDPOINTS:
        return tenant_pages.guard()
    token = current_app.config["ADMIN_TOKEN"]
    if token and request.endpoint != "ui.login" and not ui_session.logged_in():
        return redirect(url_for("ui.login", next=request.full_path))
    if request.method not in SAFE_METHODS:
        reason = ui_session.forged()
        if reason is not None:
            return render_template("ui/error.html", message=reason), 403
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> WerkzeugResponse | str:
    """Ask for the admin token when one is configured."""
    token = current_app.config["ADMIN_TOKEN"]
    error = None
    if request.method == "POST":
        given = request.form.get("token", "")
        if token and hmac.compare_digest(given.encode(), str(token).encode()):
            target = request.args.get("next", "")
            ui_session.begin(ui_session.LOGGED_IN)
            return redirect(target if target.startswith("/ui/") else url_for("ui.catalogue"))
        error = "Wrong administration token."
    return render_template("ui/login.html", error=error)


@bp.get("/")
def catalogue() -> str:
    """The scenario catalogue."""
    registry = get_registry().catalogue()
    scenarios = sorted(registry.entries.values(), key=lambda e: e.scenario["title"])
    return render_template(
        "ui/catalogue.html",
        scenarios=[e.scenario for e in scenarios],
        problems=[str(p) for p in registry.problems],
        clock_modes=CLOCK_MODES,
    )


@bp.get("/scenarios/<scenario_id>")
def scenario(scenario_id: str) -> tuple[str, int] | str:
    """One scenario: what the kommune does, what it checks, and its YAML."""
    entry = get_registry().get(scenario_id)
    if entry is None:
        return render_template(
            "ui/error.html", message=f"No scenario '{scenario_id}' in the library."
        ), 404
    return render_template(
        "ui/scenario.html", scenario=entry.scenario, yaml=entry.text, clock_modes=CLOCK_MODES
    )


@bp.post("/runs")
def start_run() -> WerkzeugResponse:
    """Start a run, then send the browser to its page (a reload must not start another)."""
    data = actions.load(RunCreateSchema(), run_form(request.form), "run")
    run, password = actions.create(data)
    response = redirect(url_for("ui.run", run_id=run.id), code=303)
    # Only a hash of the password is stored: the run page shows it once, from this cookie.
    response.set_cookie(
        PASSWORD_COOKIE,
        password,
        max_age=120,
        path=url_for("ui.run", run_id=run.id),
        httponly=True,
        samesite="Strict",
        secure=ui_session.over_https(),
    )
    return response


def run_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The run-creation form as the control plane's JSON body, for RunCreateSchema to judge."""
    body: dict[str, Any] = {
        "scenario": form.get("scenario", ""),
        "label": "started in the web UI",
        "clock": {"mode": form.get("clock", "manual")},
    }
    step = form.get("step", "").strip()
    if step and body["clock"]["mode"] == "on_poll":
        body["clock"]["step"] = step
    seed = form.get("seed", "").strip()
    if seed:
        # A form sends text; a whole number is what the JSON body would carry.
        body["seed"] = int(seed) if seed.lstrip("-").isdigit() else seed
    poll_interval = form.get("poll_interval", "").strip()
    if poll_interval:
        body["pollInterval"] = poll_interval
    return body


@bp.get("/runs")
def runs() -> str | tuple[str, int]:
    """Past and present runs, newest first, a page at a time (the control plane's filters)."""
    try:
        page = listing.page_of_runs(get_session())
    except RequestError as error:
        return _errors(error)
    config = engine_config()
    older = None
    if page.next_cursor is not None:
        older = {k: v for k, v in request.args.items() if k != "cursor"}
        older["cursor"] = page.next_cursor
    return render_template(
        "ui/runs.html",
        runs=[summary(r, config) for r in page.runs],
        total=page.total,
        status=request.args.get("status"),
        older=older,
    )


@bp.get("/runs/<run_id>")
def run(run_id: str) -> Response:
    """The live page of a run; right after its start, with its password (once)."""
    password = request.cookies.get(PASSWORD_COOKIE)
    response = Response(_run_page(run_id, password=password))
    if password:
        response.delete_cookie(PASSWORD_COOKIE, path=request.path)
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/runs/<run_id>/exchanges")
def exchanges(run_id: str) -> str:
    """Every exchange of a run, oldest first."""
    get_session().rollback()
    current = caught_up(run_id)
    ids = [e["id"] for e in score_run(get_session(), current)["exchanges"]]
    return render_template(
        "ui/exchanges.html", run={"id": run_id}, exchanges=_exchange_views(current.id, ids)
    )


def _run_page(run_id: str, password: str | None = None) -> str:
    get_session().rollback()
    current = caught_up(run_id)
    info = summary(current, engine_config())
    return render_template(
        "ui/run.html",
        run=info,
        password=password,
        live=_live_context(current),
        auth_failures=tally_of(get_session(), run_id),
    )


@bp.get("/runs/<run_id>/live")
def live(run_id: str) -> Response:
    """The live part of a run page, for the page's script to swap in; 304 when unchanged.

    The fragment scores the whole journal, which takes long for a run with thousands of
    exchanges: it is rendered only when the run changed (its version, journal count,
    status or, on a running clock, its second of virtual time), and ``X-Refresh-After``
    asks the page to wait five times as long as the rendering took before it asks again.
    """
    run = caught_up(run_id)
    tag = _live_tag(run)
    if request.if_none_match.contains_weak(tag):
        unchanged = Response(status=304)
        unchanged.set_etag(tag, weak=True)
        return unchanged  # the page keeps the pace it was last given
    started = time.perf_counter()
    html = render_template("ui/_live.html", live=_live_context(run), run={"id": run_id})
    answer = Response(html, mimetype="text/html")
    answer.set_etag(tag, weak=True)
    answer.headers["Cache-Control"] = "no-store"
    elapsed = time.perf_counter() - started
    answer.headers["X-Refresh-After"] = str(max(1, math.ceil(elapsed * 5)))
    return answer


def _live_tag(run: Run) -> str:
    """What the live fragment shows changes only with this."""
    clock = clock_of(run)
    moving = vocabulary.CLOCK_MODES[clock.mode].factor > 0 and run.status == "active"
    second = int(clock.now().timestamp()) if moving else 0
    return f"{run.version}-{run.journal_count}-{run.status}-{second}"


def _live_context(run: Run) -> dict[str, Any]:
    session = get_session()
    result = score_run(session, run)
    sak = load_sak(run)
    recent_ids = [e["id"] for e in result["exchanges"][-RECENT_EXCHANGES:]]
    return {
        "result": result,
        "sak": to_plain(sak),
        "innsendinger": sak.innsendinger,
        "svg": sequence_svg(result),
        "exchanges": _exchange_views(run.id, recent_ids),
        "waiting": _waiting(result["timeline"]),
        "total_exchanges": sum(e["repeats"] for e in result["exchanges"]),
        "status": run.status,
        "now": result["run"]["clock"]["end"],
    }


def _exchange_views(run_id: str, ids: list[int]) -> list[dict[str, Any]]:
    """Journal entries with their JSON bodies indented for reading."""
    views = [journal_json(e) for e in journal_reads.entries_by_id(get_session(), run_id, ids)]
    for view in views:
        for side in ("request", "response"):
            view[side]["body"] = _readable(view[side].get("body"))
    return views


def _readable(body: Any) -> Any:
    if not isinstance(body, str) or body[:1] not in ("{", "["):
        return body
    try:
        return json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    except ValueError:  # a body cut at the journal's cap, or not JSON after all
        return body


def _waiting(timeline: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The pending steps that wait for something the client does, and what that is."""
    out = []
    for step in timeline:
        action = step["trigger"].get("on")
        if step["status"] == "pending" and action and "due" not in step:
            known = CLIENT_ACTIONS.get(action)
            out.append(
                {
                    "step": step.get("title") or step["id"],
                    "action": action,
                    "summary": known.summary if known else action,
                }
            )
    return out


@bp.post("/runs/<run_id>/next")
def run_next(run_id: str) -> WerkzeugResponse:
    """Move the kommune to its next step."""
    actions.next_step(run_id)
    return redirect(url_for("ui.run", run_id=run_id), code=303)


@bp.post("/runs/<run_id>/advance")
def run_advance(run_id: str) -> WerkzeugResponse:
    """Move the run's clock forward."""
    actions.move_clock(run_id, {"advance": request.form.get("duration", "P1D").strip()})
    return redirect(url_for("ui.run", run_id=run_id), code=303)


@bp.post("/runs/<run_id>/finish")
def run_finish(run_id: str) -> WerkzeugResponse:
    """End the run."""
    actions.finish(run_id)
    return redirect(url_for("ui.run", run_id=run_id), code=303)


@bp.get("/runs/<run_id>/report.<fmt>")
def report(run_id: str, fmt: str) -> Response | tuple[str, int]:
    """A report of the run, shown in the browser (``?download=1``: as a file)."""
    if fmt not in RENDERERS:
        return render_template("ui/error.html", message=f"No report format '{fmt}'."), 404
    current = caught_up(run_id)
    document = combine([score_run(get_session(), current)], request.host_url.rstrip("/"))
    download = request.args.get("download") == "1"
    shown = MEDIA_TYPES[fmt] if download else SHOWN_AS.get(fmt, MEDIA_TYPES[fmt])
    response = Response(RENDERERS[fmt](document), mimetype=shown)
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{run_id}.{SUFFIX[fmt]}"'
    return response


@bp.app_template_filter("short")
def _short(value: str | None) -> str:
    """``2025-03-03T10:00:00.000Z`` → ``2025-03-03 10:00``."""
    return (value or "")[:16].replace("T", " ")


@bp.app_template_filter("percent")
def _percent(value: float | None) -> str:
    """A share as ``75 %``; ``n/a`` when nothing is decided yet."""
    return percent(value)


@bp.app_template_filter("when")
def _when(value: Any) -> str:
    """A datetime (or None) in the short form."""
    return _short(iso(value)) if value is not None else ""


@bp.errorhandler(RequestError)
def _errors(error: RequestError) -> tuple[str, int]:
    """Errors on UI pages as a page, not as problem JSON."""
    return render_template(
        "ui/error.html", message=error.detail, problems=error.problems
    ), error.status


def _root() -> WerkzeugResponse:
    return redirect(url_for("ui.catalogue"))


def _favicon() -> Response:
    response = bp.send_static_file("favicon.svg")
    response.mimetype = "image/svg+xml"
    return response


@bp.context_processor
def _csrf() -> dict[str, Any]:
    return {"csrf_token": ui_session.csrf_token, "csrf_field": ui_session.FIELD}


bp.after_request(ui_session.set_cookie)
tenant_pages.register(bp)


def init_app(app: Flask) -> None:
    """Serve the UI under /ui/, send the root URL there, and answer /favicon.ico."""
    app.register_blueprint(bp)
    app.add_url_rule("/", "root", _root)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
