"""The data resolver: user folders, then the checkout, then the installed copy."""

import pytest

from lengthgen import data
from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.rasp.library import no_program, programs
from lengthgen.suites import load_benchmark

COUNT = "task: count\ntrain_lengths: 1-4\ntest_lengths: 6\n"


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    data.clear_include_paths()
    yield
    data.clear_include_paths()


def folder_with(tmp_path, name, files):
    root = tmp_path / name
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_checkout_is_found_by_name():
    assert data.find_benchmark("count").parent.name == "tasks"
    assert data.find_suite("quick").name == "quick.yaml"


def test_include_path_comes_before_env_and_checkout(tmp_path, monkeypatch):
    mine = folder_with(tmp_path, "mine", {"tasks/count.yaml": COUNT})
    env = folder_with(tmp_path, "env", {"tasks/count.yaml": COUNT.replace("6", "7")})
    monkeypatch.setenv(data.ENV_VAR, str(env))
    assert load_benchmark(data.find_benchmark("count")).test_lengths == [7]  # env before checkout
    data.add_include_path(mine)
    assert data.find_benchmark("count") == mine / "tasks" / "count.yaml"  # flag before env
    origins = [o for o, _ in data.roots()]
    assert origins[:3] == ["--include-path", data.ENV_VAR, "checkout"]


def test_installed_copy_is_the_fallback(tmp_path, monkeypatch):
    bundle = folder_with(tmp_path, "_data", {"tasks/only-here.yaml": COUNT, "rasp/x.rasp": "output = tokens;\n"})
    monkeypatch.setattr(data, "checkout_root", lambda: None)
    monkeypatch.setattr(data, "bundled_root", lambda: bundle)
    assert data.find_benchmark("only-here") == bundle / "tasks" / "only-here.yaml"
    assert data.rasp_dirs() == [bundle / "rasp"]
    with pytest.raises(LengthgenError, match="unknown benchmark 'count'"):
        data.find_benchmark("count")


def test_user_programs_hide_library_ones_and_manifests_merge(tmp_path):
    mine = folder_with(
        tmp_path,
        "mine",
        {"rasp/sort.rasp": "# task: sort\noutput = tokens;\n", "rasp/MANIFEST.yaml": "no_program:\n  mine: why\n"},
    )
    data.add_include_path(mine)
    by_name = {e.name: e for e in programs()}
    assert by_name["sort"].path == mine / "rasp" / "sort.rasp" and "mode" in by_name  # the rest still found
    manifest = no_program()
    assert manifest["mine"] == "why" and "parity" in manifest


def test_explicit_paths_and_errors(tmp_path):
    path = folder_with(tmp_path, "x", {"b.yaml": COUNT}) / "b.yaml"
    assert data.find_benchmark(str(path)) == path
    with pytest.raises(LengthgenError, match="file not found"):
        data.find_benchmark(str(tmp_path / "missing.yaml"))
    with pytest.raises(LengthgenError, match="did you mean: count"):
        data.find_benchmark("coutn")
    with pytest.raises(LengthgenError, match="no such folder"):
        data.add_include_path(tmp_path / "nope")


def test_cli_include_path_and_info(tmp_path, capsys):
    mine = folder_with(tmp_path, "mine", {"tasks/tiny-count.yaml": COUNT})
    assert main(["--include-path", str(mine), "info"]) == 0
    out = capsys.readouterr().out
    assert str(mine / "tasks") in out and "checkout" in out
    assert main(["--include-path", str(tmp_path / "nope"), "info"]) == 2


def test_global_flags_may_follow_the_subcommand(tmp_path, capsys):
    mine = folder_with(tmp_path, "mine", {"tasks/tiny-count.yaml": COUNT})
    assert main(["info", "--include-path", str(mine)]) == 0
    assert str(mine / "tasks") in capsys.readouterr().out
    assert main(["info", f"--include-path={mine}", "--debug"]) == 0
    assert main(["info", "--include-path", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.parametrize("layout", ["tasks/suites/mine.yaml", "suites/mine.yaml"])
def test_a_folder_of_suites_alone_is_read(tmp_path, capsys, layout):
    root = folder_with(tmp_path, "extra", {layout: "name: mine\nbenchmarks: [count]\nseeds: 1\n"})
    data.add_include_path(root)
    assert data.find_suite("mine") == root / layout
    assert main(["--include-path", str(root), "bench", "--suite", "mine", "--dry-run"]) == 0
    assert "count/" in capsys.readouterr().out


def test_a_folder_that_adds_nothing_says_so(tmp_path, capsys, monkeypatch):
    empty = folder_with(tmp_path, "empty", {"notes.txt": "nothing here"})
    with pytest.raises(LengthgenError, match="nothing there lengthgen reads"):
        data.add_include_path(empty)
    monkeypatch.setenv(data.ENV_VAR, str(empty))
    assert main(["info"]) == 0
    assert "no benchmarks, suites or RASP programs there" in capsys.readouterr().out


def test_a_user_suite_shadowing_a_shipped_one_says_so(tmp_path, capsys):
    root = folder_with(tmp_path, "mine", {"suites/quick.yaml": "name: quick\nbenchmarks: [count]\n"})
    data.add_include_path(root)
    assert data.find_suite("quick") == root / "suites/quick.yaml"
    assert "shadows the shipped" in capsys.readouterr().err
    data.find_suite("quick")
    assert "shadows" not in capsys.readouterr().err  # said once
