"""``/docs``: the interactive API reference, Swagger UI rendering ``/openapi.json``.

Swagger UI's static bundle comes from the flask-swagger-ui wheel (its ``dist`` folder, a
copy of npm's swagger-ui-dist kept current); we serve those files ourselves with our own
page, so nothing is fetched from outside the sandbox and the page runs no inline script.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, Flask, Response, abort, render_template, send_from_directory

bp = Blueprint(
    "apidocs",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/docs/static",
)
# Swagger UI 5 renders OpenAPI 3.1; swagger-ui-bundle on PyPI still ships 4.15.
DIST = str(files("flask_swagger_ui") / "dist")
SERVED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "LICENSE", "VERSION"})


@bp.get("/docs")
def reference() -> str:
    """The API reference page."""
    return render_template("apidocs/docs.html")


@bp.get("/docs/swagger-ui/<name>")
def swagger_asset(name: str) -> Response:
    """One file of Swagger UI's static bundle."""
    if name not in SERVED:
        abort(404)
    return send_from_directory(DIST, name, max_age=24 * 3600)


def init_app(app: Flask) -> None:
    """Serve /docs and its assets."""
    app.register_blueprint(bp)
