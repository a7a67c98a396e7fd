"""The web UI: scenario catalogue, starting and watching runs, verdicts and reports.

Server-rendered pages over the same run engine, scoring and reports as the control API and
the CLI — no second source of truth. A little JavaScript refreshes the live part of a run
page every second; without it the pages still work. Everything is served by the sandbox
itself (no CDN), and when SANDBOX_ADMIN_TOKEN is set the UI asks for it.
"""

from __future__ import annotations

import hmac
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

from app.config import engine_config
from app.control import actions, listing
from app.control.actions import caught_up
from app.control.runs import summary
from app.errors import RequestError
from app.scenarios.registry import get_registry
from app.scoring.tally import percent
from app.store.auth_failures import tally_of
from app.store.db import get_session
from app.ui import login_limits, run_views, tenant_pages, tenants_admin
from app.ui import session as ui_session
from app.vocabulary import form_clock_modes
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
def login() -> WerkzeugResponse | str | tuple[str, int, dict[str, str]]:
    """Ask for the admin token when one is configured."""
    token = current_app.config["ADMIN_TOKEN"]
    error = None
    if request.method == "POST":
        refused = login_limits.refusal("ui/login.html", None)
        if refused is not None:
            return refused
        given = request.form.get("token", "")
        if token and hmac.compare_digest(given.encode(), str(token).encode()):
            target = request.args.get("next", "")
            ui_session.begin(ui_session.LOGGED_IN)
            return redirect(target if target.startswith("/ui/") else url_for("ui.catalogue"))
        login_limits.failed(None)
        error = "Wrong administration token."
    return render_template("ui/login.html", error=error)


@bp.get("/")
def catalogue() -> str:
    """The scenario catalogue."""
    registry = get_registry().catalogue()
    scenarios = sorted(registry.entries.values(), key=lambda e: str(e.model.title))
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
        runs=[{**summary(r, config), "tenant": r.tenant} for r in page.runs],
        total=page.total,
        status=request.args.get("status"),
        older=older,
    )


@bp.get("/runs/<run_id>")
def run(run_id: str) -> Response:
    """The live page of a run; right after its start, with its password (once)."""
    password = request.cookies.get(PASSWORD_COOKIE)
    get_session().rollback()
    current = caught_up(run_id)
    page = run_views.run_page(
        current,
        run_views.ADMIN,
        password=password,
        auth_failures=tally_of(get_session(), run_id),
    )
    response = Response(page)
    if password:
        response.delete_cookie(PASSWORD_COOKIE, path=request.path)
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/runs/<run_id>/exchanges")
def exchanges(run_id: str) -> str:
    """Every exchange of a run, oldest first."""
    get_session().rollback()
    return run_views.exchanges_page(caught_up(run_id), run_views.ADMIN)


@bp.get("/runs/<run_id>/live")
def live(run_id: str) -> Response:
    """The live part of a run page, for the page's script to swap in; 304 when unchanged."""
    return run_views.live_fragment(caught_up(run_id), run_views.ADMIN)


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
    return run_views.report(caught_up(run_id), fmt)


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
def _page_context() -> dict[str, Any]:
    return {
        "csrf_token": ui_session.csrf_token,
        "csrf_field": ui_session.FIELD,
        "tenant_view": request.endpoint in tenant_pages.ENDPOINTS,
    }


bp.after_request(ui_session.set_cookie)
tenant_pages.register(bp)
tenants_admin.register(bp)


def init_app(app: Flask) -> None:
    """Serve the UI under /ui/, send the root URL there, and answer /favicon.ico."""
    app.register_blueprint(bp)
    app.add_url_rule("/", "root", _root)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
