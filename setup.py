"""The build step pyproject.toml cannot say: the scenario library goes into the wheel.

The library lives at the top of the checkout (``scenarios/``), where authors and the tests
find it; a built wheel carries a copy as ``app/library`` so an installed command line finds
it from any folder. An editable install reads the checkout's folder instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LIBRARY = Path(__file__).parent / "scenarios"
PATTERNS = ("*.yaml", "*.json", "README.md")


class BuildWithLibrary(build_py):
    """build_py, then copy the scenario library into the built package."""

    def run(self) -> None:
        """Build the package, then add ``app/library``."""
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "app" / "library"
        target.mkdir(parents=True, exist_ok=True)
        for pattern in PATTERNS:
            for path in sorted(LIBRARY.glob(pattern)):
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": BuildWithLibrary})
