"""Tasks drawn from random programs: the conjecture tested on tasks nobody picked.

A generated task is a RASP-L program written out as a ``.rasp`` file that
:class:`lengthgen.rasp.task.ProgramTask` turns into a benchmark: inputs
drawn uniformly from ``0 1 2 3`` at an explicit length, the answer one
token (the program's value at ``<sep>``), then ``<eos>``.  One answer token
rather than a sequence because an output sequence read after ``<sep>``
must be re-aligned with the input, which is index arithmetic that RASP-L
forbids: every per-position task would be "copy-repeat composed with the
program" and so outside RASP-L by construction.

Programs come from the search grammar (:mod:`lengthgen.rasp.search`):
leaves ``tokens`` and ``indices``; element-wise ``x + 1``, ``x - 1``,
``0 - x``, ``x % 2``, comparisons; ``select`` with the seven predicates;
``aggregate`` (max or mean) and ``selector_width``.  ``n`` attention
operations are drawn one after another, each reading earlier ones with
high probability (so the normal-form length is close to ``n``), and a
bounded readout of the last.  The compiler's RASP-L rules decide what
stands; a draw they refuse is drawn again.

**Controls** are drawn the same way from a grammar that adds index
arithmetic (``x * 2``, ``x % 3`` on positions, differences of counts and
positions): programs the RASP-L rules refuse.  A control is kept only
when it is a function no RASP-L program found by ``rasp search`` (up to
the given bound) computes, and when no rewrite of its index arithmetic
into RASP-L maps agrees with it on 99% of the sample
(:mod:`lengthgen.rasp.disguise`: ``max(2k) > 0`` is ``max(k) > 0``);
without a search it says so (``searched: no``).

**Filters** (both groups): the answer is not constant, not an input token
copied from the first or last place, not decided by the last three input
tokens, not within 10 points of exact for a lookup table of the first or
the last three tokens at 10, 20 or 40 tokens (such a table is a few lines
of RASP-L, whatever the drawn program), and no cheap baseline of
:mod:`lengthgen.evaluation.baselines` comes within 10 points of exact at
the training and test lengths.  The checks of :mod:`lengthgen.rasp.disguise`
came after the generated-task study's draw (its Amendments 1 and 3), so
the same seed now draws other tasks.
Tasks are deduplicated by *observational equivalence*: equal answers on a
fixed sample of inputs are one task, the shortest program kept.

Each file records what the study needs beside the outcome: the program's
normal-form length (an upper bound on the shortest), depth, the search's
lower bound when one ran, and a rival predictor computed from the function
alone, the average sensitivity at 20 tokens (Hahn & Rofin 2024: the number
of input positions whose change flips the answer, on average).

>>> [task] = generate_tasks(count=1, seed=0, lengths=(3,), baseline_lengths=(10,))
>>> task.group, task.length, task.name.startswith("g03-")
('program', 3, True)
>>> print(task.source.split(chr(10) * 2)[1], end="")  # the program after its header
a1 = aggregate(select(tokens, tokens, true), (tokens % 2), 0);
answer = (a1 > 0.5);
output = where(tokens == "<sep>", answer, full("<eos>"));
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import CompiledProgram, compile_source
from lengthgen.rasp.disguise import answers, determined_by, disguising_rewrite, table_accuracy
from lengthgen.rasp.errors import RaspError

GRAMMAR = (
    "gen-1: the search-3 grammar (leaves tokens, indices; unary +1 -1 0-x %2 >0 ==0 ==1, means >0.5; select x6 "
    "preds and true; max, mean, width); readout a bounded map of the last attention output; answer at <sep>"
)
INPUTS = ("0", "1", "2", "3")
ANSWERS = tuple(str(i) for i in range(10))
VOCAB = ("<pad>", "<sep>", "<eos>", *ANSWERS)
PREDICATES = ("==", "!=", "<", "<=", ">", ">=")
# the search grammar's element-wise library (lengthgen.rasp.search), so that a
# search's lower bound is relative to the grammar the task was drawn from
BOUNDED_UNARY = ("x + 1", "x - 1", "0 - x", "x % 2", "x > 0", "x == 0", "x == 1")
INDEX_UNARY = ("x + 1", "x - 1", "x == 0", "x == 1", "x > 0")
MEAN_READOUTS = ("> 0.5", "== 0", "== 1", "> 0")
# what RASP-L refuses and a control may use: index arithmetic
UNRESTRICTED_UNARY = ("x * 2", "x % 3", "x % 2")
ARITHMETIC_RULE = "grows with the length"  # the compiler's words for arithmetic on positions and counts
# which rule a control breaks, by the compiler's words (Amendment 2 of the
# generated study: the two kinds behave differently under training)
RULES = {
    "arithmetic": "is not allowed (only x +/- a constant",  # x * 2, x % 3 on a position or a count
    "means": "a mean over several positions",  # a mean compared with another, or with a sequence
    "kinds": "compare only like with like",  # a count compared with a position
}
# the sample every filter and the deduplication read (fixed: a task's
# identity must not depend on the seed that drew it)
SAMPLE_LENGTHS = tuple(range(1, 13))
SAMPLE_PER_LENGTH = 64
LOCAL_WINDOW = 3
LOCAL_LENGTH = 12
LOCAL_EXAMPLES = 3000
BASELINE_MARGIN = 0.10
SKEW_LENGTHS = (10, 20, 40)
SKEW_EXAMPLES = 200
BASELINE_EXAMPLES = 400
TABLE_TOKENS = 3  # a lookup table of this many first or last input tokens is a few lines of RASP-L
TABLE_EXAMPLES = 2000  # per length of SKEW_LENGTHS: half fit the table, half score it
SENSITIVITY_LENGTH = 20
SENSITIVITY_EXAMPLES = 200
MAX_DRAWS = 20_000
# random RASP-L programs whose answers a control must not share (a control
# equal on the sample to a RASP-L draw is computed by a RASP-L program)
POOL_DRAWS = 20_000


@dataclass
class GeneratedTask:
    """One generated task: its program and what the study records beside it."""

    name: str
    group: str  # "program" (RASP-L) or "control" (refused by the RASP-L rules)
    source: str  # the whole .rasp file
    length: int  # normal-form length of the generating program (an upper bound on the shortest)
    depth: int
    drawn_ops: int  # attention operations drawn (the length asked for)
    sensitivity: float  # average sensitivity at SENSITIVITY_LENGTH tokens
    violation: str = ""  # controls: the first RASP-L rule the program breaks
    rules: tuple[str, ...] = ()  # controls: every kind of rule it breaks (RULES' names)
    search: dict = field(default_factory=dict)  # rasp search's record, when one ran
    best_baseline: dict = field(default_factory=dict)  # {"name", "length", "exact"}

    def record(self) -> dict:
        return {
            "name": self.name,
            "group": self.group,
            "file": f"{self.name}.rasp",
            "length": self.length,
            "depth": self.depth,
            "drawn_ops": self.drawn_ops,
            "sensitivity_20": round(self.sensitivity, 3),
            "violation": self.violation or None,
            "rules": list(self.rules) or None,
            "best_baseline": self.best_baseline,
            "search": self.search or None,
        }


class Draw:
    """Random programs of one grammar (RASP-L or unrestricted)."""

    def __init__(self, rng: np.random.Generator, unrestricted: bool = False):
        self.rng = rng
        self.unrestricted = unrestricted

    def pick(self, items):
        return items[int(self.rng.integers(len(items)))]

    def read(self, pool: list[tuple[str, str]], recent: bool) -> tuple[str, str]:
        """An expression attention reads: a pool entry, often the latest
        outputs (so that every operation feeds the answer), sometimes mapped."""
        if recent and len(pool) > 2 and self.rng.random() < 0.7:
            expr, kind = pool[-1 - int(self.rng.integers(min(2, len(pool) - 2)))]
        else:
            expr, kind = self.pick(pool)
        if self.unrestricted and kind == "index" and self.rng.random() < 0.5:
            return f"({expr} {self.pick(UNRESTRICTED_UNARY)[2:]})", "index"
        if self.rng.random() < 0.4:
            body = self.pick(BOUNDED_UNARY if kind == "token" else INDEX_UNARY)
            op, rest = body[2:].split(" ", 1)
            mapped_kind = "token" if op in ("==", ">", ">=", "%") or kind == "token" else kind
            return f"({expr} {op} {rest})", mapped_kind
        return expr, kind

    def selector(self, pool) -> str:
        if self.rng.random() < 0.08:
            return "select(tokens, tokens, true)"
        keys, _ = self.read(pool, recent=True)
        queries, _ = self.read(pool, recent=False)
        if self.rng.random() < 0.5:
            keys, queries = queries, keys
        return f"select({keys}, {queries}, {self.pick(PREDICATES)})"

    def program(self, n_ops: int) -> str:
        pool: list[tuple[str, str]] = [("tokens", "token"), ("indices", "index")]
        lines = []
        for i in range(n_ops):
            sel = self.selector(pool)
            roll = self.rng.random()
            name = f"a{i + 1}"
            if roll < 0.2:
                lines.append(f"{name} = selector_width({sel});")
                pool.append((name, "index"))
                continue
            values, kind = self.read(pool, recent=True)
            if roll < 0.75 or kind != "token":
                lines.append(f"{name} = aggregate({sel}, {values}, 0, max);")
                pool.append((name, kind))
            else:
                lines.append(f"{name} = aggregate({sel}, {values}, 0);")
                pool.append((name, "number"))
        last, kind = pool[-1]
        same = [e for e, k in pool[:-1] if k == kind and e.startswith("a")]
        if kind == "token" and self.rng.random() < 0.4:
            answer = last
        elif kind == "token":
            answer = f"({last} {self.pick(BOUNDED_UNARY)[2:]})"
        elif kind == "number":  # a fraction: thresholds that stay balanced at every length
            answer = f"({last} {self.pick(MEAN_READOUTS)})"
        elif same and self.rng.random() < 0.6:  # counts and positions compare like with like
            answer = f"({last} {self.pick(('==', '<'))} {self.pick(same)})"
        else:
            answer = f"({last} {self.pick(('== 0', '== 1', '> 0'))})"
        lines.append(f"answer = {answer};")
        lines.append('output = where(tokens == "<sep>", answer, full("<eos>"));')
        return "\n".join(live_lines(lines)) + "\n"


def live_lines(lines: list[str]) -> list[str]:
    """The statements the output depends on: a dead one could carry the
    only rule a control breaks while the answer never reads it.

    >>> live_lines(["a1 = f(tokens);", "a2 = g(a1);", "answer = (a1 == 1);", "output = h(answer);"])
    ['a1 = f(tokens);', 'answer = (a1 == 1);', 'output = h(answer);']
    """
    import re

    needed = {"output"}
    keep = []
    for line in reversed(lines):
        name = line.split("=", 1)[0].strip()
        if name in needed:
            keep.append(line)
            needed |= set(re.findall(r"\b(a\d+|answer)\b", line.split("=", 1)[1]))
    return keep[::-1]


def header(group: str, extra: dict[str, str]) -> str:
    lines = [
        f"# generated: lengthgen rasp generate ({GRAMMAR.split(':')[0]})",
        f"# group: {group}",
        f"# vocab: {' '.join(ANSWERS)}",
        f"# inputs: {' '.join(INPUTS)}",
    ]
    if group == "control":
        lines.append("# unrestricted: a negative control (breaks a RASP-L rule on purpose)")
    lines += [f"# {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n\n"


class Sample:
    """The fixed inputs every candidate is run on."""

    def __init__(self, codes: TokenCodes):
        self.codes = codes
        alphabet = np.array([codes.code(t) for t in INPUTS], dtype=np.float64)
        rng = np.random.default_rng(20261203)
        self.inputs = [alphabet[rng.integers(0, len(alphabet), (SAMPLE_PER_LENGTH, n))] for n in SAMPLE_LENGTHS]
        self.local = alphabet[rng.integers(0, len(alphabet), (LOCAL_EXAMPLES, LOCAL_LENGTH))]
        self.long = [alphabet[rng.integers(0, len(alphabet), (SKEW_EXAMPLES, n))] for n in SKEW_LENGTHS]
        self.alphabet = alphabet
        # drawn after the others, which stay as they were (the same signatures)
        self.tables = [alphabet[rng.integers(0, len(alphabet), (TABLE_EXAMPLES, n))] for n in SKEW_LENGTHS]


def reject_reason(program: CompiledProgram, sample: Sample) -> str | None:
    """Why a candidate is not a task (None: it is), from the sample alone."""
    per = [answers(program, x) for x in sample.inputs]
    flat = np.concatenate(per)
    if not np.isin(flat, np.arange(10)).all():
        return "answer outside 0-9"
    if len(np.unique(flat)) == 1:
        return "constant"
    longer = [(x, a) for x, a in zip(sample.inputs, per) if x.shape[1] >= 4]
    if all((a == x[:, -1]).all() for x, a in longer):
        return "copies the last input token"
    if all((a == x[:, 0]).all() for x, a in longer):
        return "copies the first input token"
    for x in sample.long:  # the full baseline check would refuse it; this is cheaper
        _, counts = np.unique(answers(program, x), return_counts=True)
        if counts.max() >= (1 - BASELINE_MARGIN) * len(x):
            return f"one answer in >= {1 - BASELINE_MARGIN:.0%} of inputs at length {x.shape[1]}"
    local = answers(program, sample.local)
    if determined_by(sample.local[:, -LOCAL_WINDOW:], local):
        return f"decided by the last {LOCAL_WINDOW} input tokens"
    for x in sample.tables:
        y, half = answers(program, x), len(x) // 2
        for side, cols in (("first", slice(0, TABLE_TOKENS)), ("last", slice(-TABLE_TOKENS, None))):
            acc = table_accuracy(x[:half, cols], y[:half], x[half:, cols], y[half:])
            if acc >= 1 - BASELINE_MARGIN:
                # one reason for every such refusal, so that the manifest's counts add up
                return f"a table of the {side} {TABLE_TOKENS} input tokens is within {BASELINE_MARGIN * 100:.0f} points of exact"
    return None


def broken_rules(program: CompiledProgram) -> tuple[str, ...]:
    """The kinds of RASP-L rule a program breaks (RULES' names, sorted;
    "other" for a rule none names).

    >>> from lengthgen.rasp.codes import TokenCodes
    >>> body = "a1 = aggregate(select(indices, (indices % 2), ==), tokens, 0, max); output = a1;"
    >>> broken_rules(compile_source(body, "<doc>", TokenCodes(VOCAB), strict=False))
    ('arithmetic',)
    """
    kinds = set()
    for violation in program.violations:
        text = str(violation)
        # the first named rule its words match: a mean compared like with like is "means"
        kinds.add(next((name for name, words in RULES.items() if words in text), "other"))
    return tuple(sorted(kinds))


def disguised(body: str, program: CompiledProgram, sample: Sample) -> bool:
    """Whether a RASP-L rewrite of the control's index arithmetic agrees
    with it on the sample (its short and long inputs)."""
    inputs = [*sample.inputs, *sample.long]
    want = [answers(program, x) for x in inputs]
    return disguising_rewrite(body, sample.codes, inputs, want) is not None


def sensitivity(program: CompiledProgram, sample: Sample, rng: np.random.Generator) -> float:
    """Average sensitivity at SENSITIVITY_LENGTH tokens: the expected number
    of positions at which replacing the token by another changes the answer."""
    n, a = SENSITIVITY_LENGTH, sample.alphabet
    x = a[rng.integers(0, len(a), (SENSITIVITY_EXAMPLES, n))]
    base = answers(program, x)
    total = 0.0
    for pos in range(n):
        y = x.copy()
        shift = rng.integers(1, len(a), SENSITIVITY_EXAMPLES)
        idx = (np.searchsorted(a, x[:, pos]) + shift) % len(a)
        y[:, pos] = a[idx]
        total += float((answers(program, y) != base).mean())
    return total


def rasp_l_pool(codes: TokenCodes, sample: Sample, draws: int, seed: int) -> set[bytes]:
    """Signatures of ``draws`` random RASP-L programs (1-5 attention
    operations): the functions some short RASP-L program computes."""
    rng = np.random.default_rng([seed, 7])
    draw = Draw(rng)
    pool: set[bytes] = set()
    for _ in range(draws):
        try:
            program = compile_source(draw.program(int(rng.integers(1, 6))), "<pool>", codes)
        except RaspError:
            continue
        pool.add(signature(program, sample))
    return pool


def signature(program: CompiledProgram, sample: Sample) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for x in sample.inputs:
        h.update(np.ascontiguousarray(answers(program, x)).tobytes())
    return h.digest()


def best_baseline(path: Path, lengths: tuple[int, ...]) -> dict:
    """The best cheap baseline's exact match over ``lengths`` (a task is
    kept only when it stays more than BASELINE_MARGIN below 1)."""
    from lengthgen.evaluation.baselines import baseline_table
    from lengthgen.evaluation.baselines import best_baseline as best
    from lengthgen.rasp.task import ProgramTask

    task = ProgramTask(program=str(path))
    top = {"name": None, "length": None, "exact": 0.0}
    for row in baseline_table(task, list(lengths), n=BASELINE_EXAMPLES, seed=0):
        name, value = best(row, "exact")
        if value > top["exact"]:
            top = {"name": name, "length": row["length"], "exact": round(float(value), 3)}
    return top


def generate_tasks(
    count: int,
    seed: int,
    lengths: tuple[int, ...] = tuple(range(3, 11)),
    controls: int = 0,
    out: Path | None = None,
    baseline_lengths: tuple[int, ...] = (10, 20, 40),
    search_seconds: float = 0.0,
    progress: Callable[[str], None] | None = None,
    stats: dict[str, int] | None = None,
    pool_draws: int = POOL_DRAWS,
    control_rules: tuple[str, ...] | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[GeneratedTask]:
    """``count`` RASP-L tasks spread evenly over normal-form ``lengths``, then
    ``controls`` unrestricted ones, seeded by ``seed``; written to ``out``
    (one ``.rasp`` file each) when given, else to a temporary folder.
    ``stats`` (a dict) receives how many draws each filter refused.
    ``control_rules`` (RULES' names) keeps only controls that break no
    other kind of rule; None keeps any.  ``exclude`` holds the signatures
    of tasks an earlier draw took (``excluded_signatures``): a follow-up
    study draws others in their place, since a task whose cells were read
    before its predictions is not a test."""
    import tempfile

    if count < 0 or controls < 0:
        raise LengthgenError(f"--count and --controls must be >= 0, got {count} and {controls}")
    unknown = sorted(set(control_rules or ()) - set(RULES))
    if unknown or control_rules == ():
        raise LengthgenError(
            f"--control-rules: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(RULES)}"
        )
    if not lengths or min(lengths) < 2 or max(lengths) > 12:
        # 2: one select and its aggregate, the shortest program that reads more than one token
        raise LengthgenError(f"--lengths must lie in 2..12, got {list(lengths)}")
    stats = stats if stats is not None else {}
    codes = TokenCodes(VOCAB)
    sample = Sample(codes)
    rng = np.random.default_rng(seed)
    pool = rasp_l_pool(codes, sample, pool_draws, seed) if controls else set()
    tasks: list[GeneratedTask] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out) if out is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        plan = [("program", lengths[i % len(lengths)]) for i in range(count)]
        plan += [("control", lengths[i % len(lengths)]) for i in range(controls)]
        drawer = Drawer(
            rng, codes, sample, pool, folder, baseline_lengths, search_seconds, stats, control_rules, exclude
        )
        for group, want in plan:
            try:
                task = drawer.draw(group, want)
            except DrawFailed as exc:  # the other slots still get their tasks
                _count(stats, f"slots left empty ({group}, length {want})")
                if progress:
                    progress(str(exc))
                continue
            tasks.append(task)
            if progress:
                progress(f"{task.name}: {group}, length {task.length}, sensitivity {task.sensitivity:.2f}")
    return tasks


@dataclass
class Drawer:
    """What every slot's draw shares: the generator, the vocabulary and
    fixed sample, the signatures already taken, the RASP-L pool controls
    must differ from, where files go, and the filters' counts."""

    rng: np.random.Generator
    codes: TokenCodes
    sample: Sample
    pool: set
    folder: Path
    baseline_lengths: tuple[int, ...]
    search_seconds: float
    stats: dict[str, int]
    control_rules: tuple[str, ...] | None = None
    exclude: frozenset[str] = frozenset()
    seen: set = field(default_factory=set)

    def draw(self, group: str, want: int) -> GeneratedTask:
        """One task of ``group`` ("program" or "control") at normal-form length ``want``."""
        rng, codes, sample, seen, pool = self.rng, self.codes, self.sample, self.seen, self.pool
        folder, baseline_lengths, search_seconds, stats = (
            self.folder,
            self.baseline_lengths,
            self.search_seconds,
            self.stats,
        )
        draw = Draw(rng, unrestricted=group == "control")
        # one attention operation is 2-3 normal-form operations (select,
        # aggregate, the blocks it reads): draw as many as can land on ``want``
        fewest, most = max(1, -(-want // 3)), max(1, -(-want // 2))
        for _ in range(MAX_DRAWS):
            n_ops = int(rng.integers(fewest, most + 1))
            body = draw.program(n_ops)
            try:
                program = compile_source(body, "<generated>", codes, strict=False)
            except RaspError:
                _count(stats, "does not compile")
                continue
            violation = str(program.violations[0]).splitlines()[0] if program.violations else ""
            if (group == "program") == bool(violation):
                _count(stats, "breaks a RASP-L rule" if violation else "obeys every RASP-L rule (control)")
                continue  # a RASP-L draw must obey the rules; a control must break one
            if group == "control" and not all(ARITHMETIC_RULE in str(v) for v in program.violations):
                # only index arithmetic: a mean over symbols, say, has a RASP-L rewrite
                _count(stats, "breaks a rule other than index arithmetic (control)")
                continue
            rules = broken_rules(program) if group == "control" else ()
            if self.control_rules is not None and not set(rules) <= set(self.control_rules):
                _count(stats, f"breaks a rule outside --control-rules ({', '.join(rules)})")
                continue
            normal = program.normal
            length = normal.length
            # controls within one of it, so that both groups spread over the same lengths
            if length != want and (group == "program" or abs(length - want) > 1):
                _count(stats, "another length")
                continue
            why = reject_reason(program, sample)
            if why is not None:
                _count(stats, why)
                continue
            sig = signature(program, sample)
            if sig in seen:
                _count(stats, "equivalent to a task already drawn")
                continue
            if sig.hex()[:8] in self.exclude:
                _count(stats, "drawn by an earlier study (--exclude)")
                continue
            if group == "control" and sig in pool:
                # the cheap check of "no RASP-L program computes it", before the search
                _count(stats, "control equivalent to a random RASP-L program")
                continue
            if group == "control" and disguised(body, program, sample):
                _count(stats, "control: a RASP-L rewrite of its index arithmetic agrees")
                continue
            name = f"{'g' if group == 'program' else 'c'}{length:02d}-{sig.hex()[:8]}"
            extra = {"length": str(length), "depth": str(normal.depth)}
            source = header(group, extra) + body
            path = folder / f"{name}.rasp"
            path.write_text(source, encoding="utf-8")
            top = best_baseline(path, baseline_lengths)
            if top["exact"] >= 1 - BASELINE_MARGIN:
                path.unlink()
                _count(stats, "a cheap baseline within 10 points")
                continue
            found = {}
            if group == "control" and search_seconds > 0:
                found = _search(path, length, search_seconds)
                if found.get("found"):
                    path.unlink()
                    _count(stats, "control solved by a searched RASP-L program")
                    continue  # a RASP-L program computes it after all: not a control
            elif group == "program" and search_seconds > 0 and length > 1:
                found = _search(path, length - 1, search_seconds)
            seen.add(sig)
            sens = sensitivity(program, sample, np.random.default_rng([int.from_bytes(sig[:4], "little"), 1]))
            return GeneratedTask(name, group, source, length, normal.depth, n_ops, sens, violation, rules, found, top)
        refused = ", ".join(f"{k}: {v:,}" for k, v in sorted(stats.items(), key=lambda kv: -kv[1])[:4])
        raise DrawFailed(f"no {group} task of length {want} passed the filters in {MAX_DRAWS:,} draws ({refused})")


class DrawFailed(LengthgenError):
    """No draw of one slot passed the filters (at length 2, for example,
    the answer read at ``<sep>`` is almost always constant or a baseline's)."""


def _count(stats: dict[str, int], reason: str) -> None:
    stats[reason] = stats.get(reason, 0) + 1


MANIFEST = "tasks.yaml"


def write_manifest(folder: Path, tasks: list[GeneratedTask], settings: dict, stats: dict[str, int]) -> Path:
    """``tasks.yaml`` beside the files: how they were drawn, what each
    filter refused, and one record per task (what the study analyses)."""
    import yaml

    path = Path(folder) / MANIFEST
    doc = {
        "grammar": GRAMMAR,
        "settings": settings,
        "refused": dict(sorted(stats.items(), key=lambda kv: -kv[1])),
        "tasks": [t.record() for t in tasks],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=100), encoding="utf-8")
    return path


def excluded_signatures(paths) -> frozenset[str]:
    """The signatures (the 8 hex digits after the length in a generated
    task's name) of every task in the given manifests or folders.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "tasks.yaml").write_text("tasks: [{name: g03-e40b8937}, {name: c05-8c663e9c}]")
    >>> sorted(excluded_signatures([d]))
    ['8c663e9c', 'e40b8937']
    """
    import yaml

    out = set()
    for path in paths:
        path = Path(path)
        manifest = path / MANIFEST if path.is_dir() else path
        try:
            doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise LengthgenError(f"--exclude {path}: cannot read a manifest ({exc})") from None
        tasks = doc.get("tasks") if isinstance(doc, dict) else None
        if not isinstance(tasks, list):
            raise LengthgenError(f"--exclude {path}: not a manifest of lengthgen rasp generate (no 'tasks' list)")
        for task in tasks:
            name = str(task.get("name", "")) if isinstance(task, dict) else ""
            parts = name.split("-")
            if len(parts) != 2 or len(parts[1]) != 8:
                raise LengthgenError(f"--exclude {path}: {name!r} is not a generated task's name (like g03-e40b8937)")
            out.add(parts[1])
    return frozenset(out)


def check_out_folder(folder: Path) -> None:
    """Generated files go into a new or empty folder only: a draw never
    mixes with, or overwrites, another draw's tasks."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise LengthgenError(f"--out {folder}: not an empty folder (generated tasks go into a folder of their own)")


def _search(path: Path, max_ops: int, seconds: float) -> dict:
    """rasp search on the task up to ``max_ops``: a lower bound for a
    program, the control's check that no short RASP-L program computes it."""
    from lengthgen.rasp.search import search
    from lengthgen.rasp.task import ProgramTask

    result = search(ProgramTask(program=str(path)), max(1, min(max_ops, 12)), time_limit=seconds)
    record = result.as_dict()
    return {k: record[k] for k in ("found", "length", "lower_bound", "cpu_seconds", "minimal") if k in record}
