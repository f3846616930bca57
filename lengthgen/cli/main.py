"""Entry point: builds the argument parser from the command modules and turns
user errors into one-line messages with exit code 2."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import traceback

from lengthgen import __version__
from lengthgen.cli import analysis_cmd, bench_cmd, catalog_cmd, info_cmd, models_cmd, rasp_cmd, run_cmd, tasks_cmd
from lengthgen.data import add_include_path, clear_include_paths
from lengthgen.errors import Interrupted, LengthgenError
from lengthgen.plugins import add_plugin_path, load_entry_points
from lengthgen.rasp.errors import RaspError

MAX_ERROR_CHARS = 1000
COMMANDS = (tasks_cmd, catalog_cmd, models_cmd, run_cmd, bench_cmd, analysis_cmd, rasp_cmd, info_cmd)


class _Parser(argparse.ArgumentParser):
    """argparse exits with a usage block; we want one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise LengthgenError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lengthgen", description="Length-generalization benchmark suite.")
    parser.add_argument("--version", action="version", version=f"lengthgen {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument(
        "--plugin-path",
        action="append",
        default=[],
        metavar="DIR",
        help="folder to import module:Class models and tasks from (the current folder is never used on its own)",
    )
    parser.add_argument(
        "--include-path",
        action="append",
        default=[],
        metavar="DIR",
        help="extra folder of benchmarks (tasks/), suites and RASP programs (rasp/); searched first",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def _stop_on_sigterm() -> None:
    """SIGTERM anywhere outside training (which checkpoints first) stops as
    cleanly as Ctrl-C: temporaries are cleaned, the exit code is 143."""

    def handler(signum, _frame):
        raise Interrupted(signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


GLOBAL_FLAGS = ("--include-path", "--plugin-path")  # global options that take a value
GLOBAL_SWITCHES = ("--debug",)


def hoist_global_flags(argv: list[str]) -> list[str]:
    """Global options may follow the subcommand (``lengthgen bench ...
    --include-path DIR``): move them in front, where argparse reads them.
    Nothing after a bare ``--`` moves.

    >>> hoist_global_flags(["bench", "--suite", "s", "--include-path", "x", "--debug"])
    ['--include-path', 'x', '--debug', 'bench', '--suite', 's']
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg in GLOBAL_FLAGS and i + 1 < len(argv):
            front += argv[i : i + 2]
            i += 2
            continue
        if arg in GLOBAL_SWITCHES or any(arg.startswith(f + "=") for f in GLOBAL_FLAGS):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def main(argv: list[str] | None = None) -> int:
    argv = hoist_global_flags(sys.argv[1:] if argv is None else list(argv))
    debug = "--debug" in argv
    _stop_on_sigterm()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        clear_include_paths()
        for folder in args.include_path:
            add_include_path(folder)
        for folder in args.plugin_path:
            add_plugin_path(folder)
        load_entry_points()
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except LengthgenError as exc:
        if debug:
            traceback.print_exc()
        message = " ".join(str(exc).split("\n")[:1]) if not isinstance(exc, RaspError) else str(exc)
        if len(message) > MAX_ERROR_CHARS:  # a value copied into a message must not flood the terminal
            message = message[: MAX_ERROR_CHARS - 20] + " ... (truncated)"
        print(f"lengthgen: error: {message}", file=sys.stderr)
        if isinstance(exc, RaspError) and exc.line:
            # the caret excerpt goes under the one-line message
            print("\n".join(exc.excerpt().splitlines()[1:]), file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else str(signum)
        print(f"lengthgen: interrupted ({name}); checkpoints are saved, rerun the command to resume", file=sys.stderr)
        return 128 + int(signum)
    except (MemoryError, RecursionError) as exc:
        if debug:
            traceback.print_exc()
        what = "out of memory" if isinstance(exc, MemoryError) else "input nested too deeply"
        print(f"lengthgen: error: {what}; reduce the sizes involved (--debug shows where)", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `lengthgen tasks sample ... | head` closes stdout early; not an error.
        sys.stderr.close()
        return 0
    except OSError as exc:
        if debug:
            traceback.print_exc()
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"lengthgen: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
