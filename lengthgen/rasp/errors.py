"""RASP errors that point at the source: ``file:line:col: message`` plus a caret excerpt."""

from __future__ import annotations

from lengthgen.errors import LengthgenError


class RaspError(LengthgenError):
    """An error in a RASP program.  ``str()`` is the one-line form; ``excerpt``
    adds the offending line with a caret under the column."""

    def __init__(self, message: str, line: int = 0, col: int = 0, source: str = "", filename: str = "<input>"):
        self.message, self.line, self.col, self.source, self.filename = message, line, col, source, filename
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = f"{self.filename}:{self.line}:{self.col}" if self.line else self.filename
        return f"{where}: {self.message}"

    def excerpt(self) -> str:
        lines = self.source.splitlines()
        if not self.line or self.line > len(lines):
            return self.one_line()
        text = lines[self.line - 1].expandtabs(1)
        return f"{self.one_line()}\n  {text}\n  {' ' * max(0, self.col - 1)}^"

    def located(self, source: str, filename: str) -> RaspError:
        """Attach the program text and file name (errors raised deep inside
        the compiler know only line and column)."""
        self.source, self.filename = source, filename
        self.args = (self.one_line(),)
        return self
