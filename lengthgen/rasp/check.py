"""Running a program as a next-token predictor against a task, and scoring programs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import CompiledProgram, compile_file
from lengthgen.rasp.interpreter import Interpreter
from lengthgen.tasks import EOS, SEP, Task, make_task
from lengthgen.training.data import to_lm_batch


@dataclass
class LengthCheck:
    length: int
    n: int
    exact: float
    token: float


@dataclass
class Counterexample:
    length: int
    input: list[str]
    expected: list[str]
    got: list[str]


@dataclass
class CheckReport:
    rows: list[LengthCheck] = field(default_factory=list)
    counterexample: Counterexample | None = None
    # lengths added beyond the largest value an unbounded sequence is compared with
    derived: list[int] = field(default_factory=list)
    # where the task cannot generate them: the longest it can, said in the report
    unreachable: int | None = None

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(r.exact == 1.0 for r in self.rows)

    def verified_range(self) -> tuple[int, int] | None:
        """The run of lengths from the first checked one that are all right."""
        good = None
        for row in self.rows:
            if row.exact < 1.0:
                break
            good = (self.rows[0].length, row.length)
        return good


def generate(interpreter: Interpreter, codes: TokenCodes, prompt: list[str], max_new: int) -> list[str]:
    """Greedy autoregressive output of a program after ``prompt`` (which ends with <sep>)."""
    seq = codes.encode(prompt).tolist()
    out: list[str] = []
    for _ in range(max_new):
        nxt = interpreter.run(np.array([seq]))[0, -1]
        token = codes.token(nxt)
        out.append(token)
        if token == "<eos>" or token.startswith("?"):
            break
        seq.append(nxt)
    return out


MAX_CHECK_EXAMPLES = 1_000_000


def lengths_beyond_constants(program: CompiledProgram, task: Task, lengths: list[int]) -> tuple[list[int], int | None]:
    """Lengths past the largest value a position, count or number is
    compared with (c + 1 and 2c + 2), not already checked or exceeded.

    A program may compare a growing value with constants 1..c and let the
    readout spell out a table; such a program is right at every length up
    to about c and wrong after it, so a check must look past c.  Returns the
    lengths to add and, when the task cannot generate them, its longest
    length (reported as the limit of what was verified)."""
    c = program.largest_compared
    if c is None or not lengths:
        return [], None
    wanted = [n for n in (int(c) + 1, 2 * int(c) + 2) if n > max(lengths)]
    top = task.max_length()
    if top is None or all(n <= top for n in wanted):
        return wanted, None
    # the task stops short of them: check at its longest length, and say so
    reachable = sorted({min(n, top) for n in wanted if min(n, top) > max(lengths)})
    return reachable, top


def check_program(program: CompiledProgram, task: Task, lengths: list[int], n: int, seed: int = 0) -> CheckReport:
    """Per length: the fraction of target tokens (and the closing <eos>) the
    program predicts given the true prefix, and of whole examples it gets
    right; greedy generation reproduces an example exactly iff all its
    teacher-forced predictions are right, so "exact" is also the greedy
    exact-match rate.  The first failing example is kept, with the program's
    greedy output."""
    if not 1 <= n <= MAX_CHECK_EXAMPLES:
        raise LengthgenError(f"--n must be in 1..{MAX_CHECK_EXAMPLES:,}, got {n}")
    if seed < 0:
        raise LengthgenError(f"--seed must be >= 0, got {seed}")
    codes = program.codes
    if codes.vocab != task.vocab:
        raise LengthgenError("program was compiled for another vocabulary; compile it with the task's TokenCodes")
    for length in lengths:
        task.check_length(length)
    if not program.causal:
        raise LengthgenError(
            f"{program.filename}: a '# mode: rasp' program is not causal, so it is no next-token predictor; "
            "run or trace it with `lengthgen rasp run`"
        )
    interpreter = program.interpreter()
    report = CheckReport()
    report.derived, report.unreachable = lengths_beyond_constants(program, task, lengths)
    # refuse up front what the interpreter would refuse only after every shorter length
    from lengthgen.rasp.interpreter import MAX_SEQUENCE_ELEMENTS

    longest = max([*lengths, *report.derived])
    probe = to_lm_batch(task.sample(np.random.default_rng(0), 1, longest))
    if probe.tokens.shape[1] ** 2 > MAX_SEQUENCE_ELEMENTS:
        limit = int(MAX_SEQUENCE_ELEMENTS**0.5)
        raise LengthgenError(
            f"length {longest} makes sequences of {probe.tokens.shape[1]:,} tokens; a check reads at most "
            f"{limit:,} (their selectors would need {probe.tokens.shape[1] ** 2:,} cells); use shorter --lengths"
        )
    for length in [*lengths, *report.derived]:
        rng = np.random.default_rng([seed, length])
        batch = task.sample(rng, n, length)
        lm = to_lm_batch(batch)
        pred = interpreter.run(codes.id_to_code[lm.tokens])
        want = codes.id_to_code[lm.labels]
        hit = pred == want
        ok = (hit | ~lm.loss_mask).all(axis=1)
        report.rows.append(LengthCheck(length, n, float(ok.mean()), float(hit[lm.loss_mask].mean())))
        if report.counterexample is None and not ok.all():
            i = int(np.argmin(ok))
            x, y = batch.example(i)
            prompt = task.decode(x) + [task.vocab[SEP]]
            got = generate(interpreter, codes, prompt, len(y) + 2)
            report.counterexample = Counterexample(length, task.decode(x), task.decode(y) + [task.vocab[EOS]], got)
    return report


def parse_params_header(text: str) -> dict[str, str]:
    params = {}
    for pair in text.split():
        key, sep, value = pair.partition("=")
        if not sep:
            raise LengthgenError(f"bad '# params:' entry {pair!r} (use key=value)")
        params[key] = value
    return params


def program_task(path: str | Path, task_name: str | None = None, params: dict[str, Any] | None = None) -> Task:
    """The task a program file declares (``# task:`` and ``# params:`` header
    lines), unless overridden."""
    from lengthgen.rasp.compiler import header_of

    header = header_of(Path(path).read_text(encoding="utf-8", errors="replace"))
    name = task_name or header.get("task")
    if not name:
        raise LengthgenError(f"{path}: no '# task:' header line; pass --task")
    merged = {} if task_name else parse_params_header(header.get("params", ""))
    merged.update(params or {})
    return make_task(name, **merged)


def compile_for_task(path: str | Path, task: Task) -> CompiledProgram:
    return compile_file(path, TokenCodes(task.vocab))
