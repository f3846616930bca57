"""Build hook: ship the top-level benchmark definitions (``tasks/``) and the
RASP-L program library (``rasp/``) inside the wheel as ``lengthgen/_data``,
so an installed package has them without changing the repository layout.
Everything else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("tasks", "rasp")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        for name in BUNDLED:
            src = ROOT / name
            if src.is_dir():
                dst = Path(self.build_lib) / "lengthgen" / "_data" / name
                shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithData})
