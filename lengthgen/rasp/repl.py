"""``lengthgen rasp repl``: type statements, see their values at once.

rasp> :input 3 1 2 <sep>
rasp> prev = shift_by(1, tokens, 0);
rasp> prev + 1            <- an expression without ';' is traced
rasp> :show prev          <- trace a name (a sequence or a selector)
rasp> def f(x) {          <- a definition may span several lines
....>     return x + 1;
....> }
rasp> :program            <- the statements so far
rasp> :undo | :reset | :load FILE | :save FILE | :help | :quit
"""

from __future__ import annotations

import sys
from pathlib import Path

from lengthgen.config import read_text_bounded
from lengthgen.errors import LengthgenError
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.errors import RaspError
from lengthgen.rasp.trace import trace_table

HELP = (__doc__ or "").split("\n\n", 1)[1]
SCRATCH = "repl_value_"  # the name an expression is traced under; never shown


class Repl:
    def __init__(self, codes: TokenCodes, load: str | None = None, out=None, err=None):
        self.codes = codes
        self.statements: list[str] = []
        self.input = ["1", "2", "3"] if codes.open else [codes.vocab[-1]] * 3
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        if load:
            self.command(f":load {load}")

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def source(self, extra: str = "") -> str:
        return "\n".join(self.statements + ([extra] if extra else []))

    def trace(self, expression: str) -> None:
        """Trace a name or an expression (a sequence or a selector)."""
        extra = f"{SCRATCH} = {expression};"
        program = compile_source(self.source(extra), "<repl>", self.codes, require_output=False)
        node = program.names.get(SCRATCH)
        if node is None:
            raise LengthgenError(f"{expression!r} is not a sequence or a selector")
        if node.label == SCRATCH:
            node.label = expression if len(expression) <= 40 else "value"
        self.say(trace_table(program, self.input, node))

    def command(self, line: str) -> bool:
        """Handle one line; returns False to stop."""
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        try:
            if text in (":quit", ":q", ":exit"):
                return False
            if text == ":help":
                self.say(HELP)
            elif text.startswith(":input"):
                tokens = text[len(":input") :].split()
                for tok in tokens:
                    self.codes.code(tok)
                if not tokens:
                    raise LengthgenError("usage: :input TOKEN ...")
                self.input = tokens
                self.say(f"input: {' '.join(tokens)}")
            elif text.startswith(":show"):
                self.trace(text[len(":show") :].strip() or "output")
            elif text == ":program":
                self.say(self.source() or "(empty)")
            elif text == ":undo":
                if self.statements:
                    self.say(f"removed: {self.statements.pop()}")
            elif text == ":reset":
                self.statements = []
            elif text.startswith(":load"):
                path = Path(text[len(":load") :].strip())
                source = read_text_bounded(path, 1 << 20, "program")
                compile_source(source, str(path), self.codes, require_output=False)
                self.statements = [source]
                self.say(f"loaded {path}")
            elif text.startswith(":save"):
                path = Path(text[len(":save") :].strip())
                path.write_text(self.source() + "\n", encoding="utf-8")
                self.say(f"saved {path}")
            elif text.startswith(":"):
                raise LengthgenError(f"unknown command {text.split()[0]!r} (try :help)")
            elif text.endswith(";") or text.endswith("}"):
                compile_source(self.source(text), "<repl>", self.codes, require_output=False)
                self.statements.append(text)
                name = text.split("=", 1)[0].strip()
                if "=" in text and name.isidentifier() and not text.startswith("def "):
                    self.trace(name)
            else:
                self.trace(text)
        except RaspError as exc:
            print(exc.excerpt().replace(SCRATCH, "the expression"), file=self.err)
        except (LengthgenError, OSError) as exc:
            print(f"error: {exc}", file=self.err)
        return True

    def loop(self) -> None:
        self.say("lengthgen RASP-L repl; :help for commands, :quit to leave")
        pending: list[str] = []  # the lines of a statement still open (a multi-line def)
        while True:
            try:
                line = input("....> " if pending else "rasp> ")
            except EOFError:
                self.say("")
                return
            except KeyboardInterrupt:
                self.say("")
                pending = []
                continue
            pending.append(line)
            text = "\n".join(pending)
            if open_braces(text) > 0:
                continue
            pending = []
            if not self.command(text):
                return


def open_braces(text: str) -> int:
    """Braces opened and not yet closed (outside comments and strings)."""
    depth, quote = 0, ""
    for line in text.splitlines():
        for ch in line:
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            else:
                depth += (ch == "{") - (ch == "}")
    return depth
