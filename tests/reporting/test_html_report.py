"""`lengthgen report FOLDER --html OUT`: one self-contained page with the
leaderboard, the figures, the verdicts and every cell's provenance."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lengthgen.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "results" / "studies" / "conjecture-v3" / "runs" / "conjecture-v3-learned-short"


@pytest.fixture
def folder(tmp_path):
    """Four committed cells: two seeds of a program benchmark and of a no-program one."""
    out = tmp_path / "runs"
    out.mkdir()
    for path in sorted(STUDY.glob("*.json")):
        data = json.loads(path.read_text())
        if data["config"]["benchmark"] in ("count", "copy-repeat") and data["seed"] in (0, 1):
            shutil.copy(path, out / path.name)
    assert len(list(out.iterdir())) == 4
    return out


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, int] = {}
        self.links: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for key, value in attrs:
            if key in ("src", "href") and value:
                (self.images if tag == "img" else self.links).append(value)

    def handle_data(self, data):
        self.text.append(data)


def _report(tmp_path, folder) -> tuple[Page, str]:
    out = tmp_path / "report.html"
    assert main(["report", str(folder), "--html", str(out)]) == 0
    source = out.read_text(encoding="utf-8")
    page = Page()
    page.feed(source)
    return page, source


def test_the_page_holds_every_part_and_reaches_for_nothing_outside(tmp_path, folder):
    page, source = _report(tmp_path, folder)
    results = list(folder.glob("*.json"))
    text = " ".join(page.text)
    assert source.startswith("<!DOCTYPE html>") and page.tags["table"] >= 2
    assert "Leaderboard" in text and "Verdicts" in text and "RASP-Generalization Conjecture" in text
    assert page.tags["details"] == len(results)  # the provenance of every cell
    assert all(json.loads(p.read_text())["fingerprint"] in source for p in results)
    # self-contained: every image inline, no script, no stylesheet or link to fetch
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert not page.links and "script" not in page.tags
    if _has_matplotlib():
        assert len(page.images) >= 2  # all benchmarks, and one per benchmark


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_names_from_result_files_are_shown_not_run(tmp_path, folder):
    source = sorted(folder.glob("*.json"))[0]
    data = json.loads(source.read_text())
    data["name"] = "<script>alert(1)</script>"
    source.write_text(json.dumps(data))
    page, text = _report(tmp_path, folder)
    assert "script" not in page.tags and "&lt;script&gt;" in text


def test_an_empty_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--html", str(tmp_path / "r.html")]) == 2
    assert "no usable result files" in capsys.readouterr().err and not (tmp_path / "r.html").exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs the distribution's chromium (.ci/run installs it)")
def test_a_browser_renders_the_table_and_the_figures(tmp_path, folder):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    _report(tmp_path, folder)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--screenshot={shot}", "--window-size=1280,2400", (tmp_path / "report.html").as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pixels = imread(shot)[..., :3]
    dark = (pixels.max(axis=-1) < 0.5).mean()  # text and table rules
    spread = pixels.max(axis=-1) - pixels.min(axis=-1)
    coloured = (spread > 0.3).mean()  # the figures' curves (text and tables are grey)
    assert dark > 0.005 and coloured > 0.0001, (dark, coloured)  # measured: 0.013 and 0.0003 (one blue curve)
