"""RASP-L: a small language for transformer-shaped programs, its vectorised
interpreter, a checker against tasks and program-length scoring.

- text programs: :func:`compile_source` / :func:`compile_file` (``.rasp`` files)
- Python programs: :class:`Builder` (same graph, same checks)
- running: :class:`Interpreter`; verifying: :func:`check_program`
"""

from lengthgen.rasp.check import check_program, compile_for_task, program_task
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import CompiledProgram, compile_file, compile_source
from lengthgen.rasp.dsl import Builder
from lengthgen.rasp.errors import RaspError
from lengthgen.rasp.interpreter import Interpreter

__all__ = [
    "Builder",
    "CompiledProgram",
    "Interpreter",
    "RaspError",
    "TokenCodes",
    "check_program",
    "compile_file",
    "compile_for_task",
    "compile_source",
    "program_task",
]
