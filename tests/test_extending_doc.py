"""docs/extending.md is executed: its files are written out, its commands
run (the training command with a shorter budget), so the page stays true."""

import re
import shlex
from pathlib import Path

import pytest

from lengthgen import plugins
from lengthgen.cli.main import main
from lengthgen.models import MODELS
from lengthgen.tasks import TASKS

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def blocks() -> tuple[dict[str, str], list[list[str]]]:
    text = DOC.read_text()
    files = {m.group(1): m.group(2) for m in re.finditer(r"<!-- extending: (\S+) -->\n```\w*\n(.*?)```", text, re.S)}
    commands = []
    for body in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in body.replace("\\\n", " ").splitlines():
            if line.strip():
                commands.append(shlex.split(line)[1:])  # drop "lengthgen"
    return files, commands


@pytest.fixture
def written(tmp_path, monkeypatch):
    files, commands = blocks()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield files, commands
    for name in [n for n in TASKS.names() if n.startswith("my_tasks")] + ["first-equals-last"]:
        if name in TASKS:
            TASKS.unregister(name)
    for name in [n for n in MODELS.names() if n.startswith("my_models")]:
        MODELS.unregister(name)


def test_the_page_has_every_part():
    files, commands = blocks()
    assert set(files) == {"my_tasks.py", "my_models.py", "pyproject.toml", "first-equals-last.rasp"}
    assert {c[0] for c in commands} == {"tasks", "run", "rasp"}


def test_every_command_of_the_page_runs(written, tmp_path, capsys):
    _, commands = written
    for argv in commands:
        if argv[0] == "run":  # the page's budget, shortened for the test suite
            argv = [a if a != "200" else "20" for a in argv] + [
                "--eval-examples",
                "20",
                "--out",
                str(tmp_path / "runs"),
            ]
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, f"{' '.join(argv)}: {err[-800:]}"
        if argv[:2] == ["rasp", "check"]:
            rows = [line for line in out.splitlines() if re.match(r"\|\s+\d+ \|", line)]
            exact = [line.strip(" |").split("|")[-1].strip() for line in rows]
            assert exact and all(float(v) == 100.0 for v in exact), out  # exact at every length


def test_the_entry_points_name_what_the_page_defines(written):
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    files, _ = written
    groups = tomllib.loads(files["pyproject.toml"])["project"]["entry-points"]
    for group in ("lengthgen.tasks", "lengthgen.models"):
        for target in groups[group].values():
            assert plugins.load_object(target) is not None
