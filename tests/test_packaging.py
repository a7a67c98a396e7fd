"""The wheel as a vendor installs it: ``pip install`` (not editable) into a fresh virtual
environment outside the checkout, then the command line from another folder finds the
scenario library it carries, prints its own version and scores the reference client."""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).parents[1]
CLIENT = ROOT / "examples" / "reference_client" / "client.py"
# What a fresh clone does not have: built or local state of this checkout.
NOT_IN_A_CLONE = (".git", ".venv", "build", "dist", "instance", "test-artifacts", "*.egg-info")


def _sh(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=540, check=False
    )


def test_installed_wheel_runs_the_library_from_any_folder(tmp_path: Path) -> None:
    # A copy, so the build's own folders (build/, *.egg-info) never touch this checkout.
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(*NOT_IN_A_CLONE, "__pycache__"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python, cli = env_dir / "bin" / "python", env_dir / "bin" / "byggesak-sandbox"
    installed = _sh(python, "-m", "pip", "install", "--quiet", checkout, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]
    shutil.rmtree(checkout)  # nothing may still be read from the source tree
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    version = _sh(cli, "--version", cwd=elsewhere)
    assert version.returncode == 0 and version.stdout.strip() == "byggesak-sandbox 0.1.0"
    helped = _sh(cli, "--help", cwd=elsewhere)
    assert "serve" in helped.stdout and "run" in helped.stdout
    for flask_own in ("--env-file", "--app", "--debug", "routes", "shell"):
        assert flask_own not in helped.stdout

    missing = _sh(cli, "run", "--scenario", "happy-path", "--client-cmd", "true",
                  "--scenario-dir", "/does/not/exist", cwd=elsewhere)  # fmt: skip
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "Error: Invalid value for '--scenario-dir': Directory '/does/not/exist' does not exist."
    ]

    # Every page a wheel must carry the files of: templates, static files, the library.
    pages = (
        "from app import create_app; c = create_app({'DATABASE_URL': 'sqlite://'}).test_client()\n"
        "for url in ('/ui/', '/docs', '/docs/swagger-ui/swagger-ui-bundle.js', '/favicon.ico',"
        " '/ui/scenarios/happy-path', '/openapi.json'):\n"
        "    assert c.get(url).status_code == 200, url"
    )
    served = _sh(python, "-c", pages, cwd=elsewhere)
    assert served.returncode == 0, served.stderr[-2000:]

    client = f"{python} {CLIENT}"
    played = _sh(cli, "run", "--scenario", "happy-path", "--client-cmd", client, cwd=elsewhere)
    assert played.returncode == 0, played.stdout + played.stderr
    assert played.stdout.startswith("PASS happy-path")
