"""Tasks defined by RASP-L programs: the program computes every target.

``--task rasp:path/to/program.rasp`` turns a program into a benchmark
task.  Inputs are drawn uniformly from the program's input alphabet at an
explicit length; the target is what the program generates after
``input <sep>``, greedily, up to and without its ``<eos>``, so a program
and a model are scored on the same next-token function.  The file names
its tokens in a header:

    # vocab: a b true false        (every token the program reads or writes)
    # inputs: a b                  (the input alphabet; default: the whole vocab)
    # unrestricted: why            (optional: a negative control that breaks
                                    RASP-L rules on purpose; run, never counted as RASP-L)

Example (``rasp/examples/first-token.rasp`` style, a program that copies
the first input token and stops): inputs ``b a a`` -> target ``b``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.tasks.base import EOS, SEP, Batch, Param, Task

PREFIX = "rasp:"
MAX_OUTPUT = 4096


class ProgramTask(Task):
    """The task a RASP-L program defines (``--task rasp:FILE``).

    Inputs: ``length`` tokens drawn uniformly from the header's ``# inputs:``
    (default: its ``# vocab:``); target: the program's greedy output after
    ``<sep>`` up to its ``<eos>`` (at most ``max_output`` tokens, default
    ``2 * length + 2``).  A program that emits a value outside its
    vocabulary, or no ``<eos>`` in time, is an error naming the length.
    """

    name = "rasp-program"
    family = "program"
    length_unit = "input tokens"
    baselines = ("copy-input", "first-input-token", "last-input-token", "input-mode-answer-token")
    params = {
        "program": Param("", "path of the .rasp file whose output defines the targets"),
        "program_hash": Param("", "content hash of the file (an edited program is another task)"),
        "max_output": Param(0, "longest target in tokens (0: 2 * length + 2)", minimum=0),
    }

    def __init__(self, **kwargs):
        from lengthgen.rasp.compiler import header_of

        program = kwargs.get("program") or getattr(type(self), "default_program", "")
        if not program:
            raise LengthgenError("task rasp-program needs a program: --task rasp:path/to/program.rasp")
        kwargs["program"] = str(program)
        path = Path(program)
        try:
            raw = path.read_bytes()
            self.source = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LengthgenError(f"task rasp:{program}: cannot read the program ({exc})") from None
        digest = content_hash(raw)
        expected = kwargs.get("program_hash") or getattr(type(self), "program_hash", "")
        if expected and expected != digest:
            raise LengthgenError(
                f"task rasp:{program}: the file changed since this run was configured (content hash {digest}, "
                f"expected {expected}); the edited program defines another task"
            )
        kwargs["program_hash"] = digest
        header = header_of(self.source)
        vocab = list(dict.fromkeys(header.get("vocab", "").split()))
        if not vocab:
            raise LengthgenError(
                f"task rasp:{program}: the program needs a '# vocab: ...' header naming every token it reads or writes"
            )
        inputs = list(dict.fromkeys(header.get("inputs", "").split())) or vocab
        unknown = [t for t in inputs if t not in vocab]
        if unknown:
            raise LengthgenError(f"task rasp:{program}: '# inputs:' tokens {unknown} are not in '# vocab:'")
        self._vocab_tokens, self._input_tokens = vocab, inputs
        super().__init__(**kwargs)
        from lengthgen.rasp.codes import TokenCodes
        from lengthgen.rasp.compiler import compile_source

        self.codes = TokenCodes(self.vocab)
        # a negative control breaks a RASP-L rule on purpose and says so in its header
        self.unrestricted = "unrestricted" in header
        self.compiled = compile_source(self.source, str(path), self.codes, strict=not self.unrestricted)
        if self.compiled.violations and not self.unrestricted:
            raise LengthgenError(f"task rasp:{program}: not RASP-L: {self.compiled.violations[0]}")

    def build_tokens(self):
        return self._vocab_tokens

    def _sample(self, rng, batch_size, length):
        alphabet = np.array([self.id(t) for t in self._input_tokens], dtype=np.int64)
        inputs = alphabet[rng.integers(0, len(alphabet), size=(batch_size, length))]
        targets, target_lengths = self.run_program(inputs, length)
        return Batch.ragged(inputs, np.full(batch_size, length, dtype=np.int64), targets, target_lengths)

    def run_program(self, inputs: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Greedy generation after ``input <sep>`` for a batch of input ids,
        vectorised over the batch: target ids [B, T] (PAD after each end) and lengths."""
        limit = self.max_output or 2 * length + 2
        if limit > MAX_OUTPUT:
            raise LengthgenError(f"task {self.name}: max_output {limit} exceeds {MAX_OUTPUT}")
        interpreter = self.compiled.interpreter()
        to_code = self.codes.id_to_code
        code_to_id = {code: i for i, code in enumerate(to_code)}
        batch = len(inputs)
        seq = np.concatenate([to_code[inputs], np.full((batch, 1), to_code[SEP])], axis=1)
        out = np.zeros((batch, limit), dtype=np.int64)
        ends = np.full(batch, -1, dtype=np.int64)
        for k in range(limit + 1):
            codes = interpreter.run(seq)[:, -1]
            ids = np.array([code_to_id.get(float(c), -1) for c in codes], dtype=np.int64)
            bad = (ids < 0) & (ends < 0)
            if bad.any():
                raise LengthgenError(
                    f"task {self.name}: at length {length} the program emits {self.codes.token(codes[bad][0])!r}, "
                    "which is not a token of its '# vocab:'"
                )
            newly = (ids == EOS) & (ends < 0)
            ends[newly] = k
            if (ends >= 0).all():
                break
            if k == limit:
                raise LengthgenError(
                    f"task {self.name}: at length {length} the program writes no <eos> within {limit} tokens "
                    "(raise max_output, or end the output)"
                )
            out[:, k] = np.where(ends < 0, ids, 0)
            seq = np.concatenate([seq, codes[:, None]], axis=1)
        if (ends == 0).any():
            raise LengthgenError(f"task {self.name}: at length {length} the program's answer is empty (<eos> first)")
        width = int(ends.max())
        return out[:, :width], ends

    def reference(self, inputs):
        from lengthgen.rasp.reference import evaluate_one

        seq = [float(self.codes.code(t)) for t in [*inputs, "<sep>"]]
        out = []
        while True:
            nxt = evaluate_one(self.compiled.output, seq)[-1]
            token = self.codes.token(nxt)
            if token == "<eos>":
                return out
            out.append(token)
            seq.append(nxt)


def program_task_name(spec: str) -> str:
    """Register the task ``rasp:FILE`` (a :class:`ProgramTask` bound to the
    file) and return its name; the file's content is part of the task's
    identity through its hash, so an edited program is another task."""
    from lengthgen.tasks import TASKS

    if spec in TASKS:
        return spec
    path = spec[len(PREFIX) :]
    if not path or not Path(path).is_file():
        raise LengthgenError(f"task {spec!r}: no such program file {path!r}")
    digest = content_hash(Path(path).read_bytes())
    bound = type(
        "BoundProgramTask",
        (ProgramTask,),
        {
            "name": spec,
            "default_program": path,
            "program_hash": digest,
            "params": {
                **ProgramTask.params,
                "program": Param(path, "path of the .rasp file"),
                "program_hash": Param(digest, "content hash of the file (an edited program is another task)"),
            },
            "__doc__": f"The task the RASP-L program {path} defines (content hash {digest}).",
        },
    )
    TASKS.register(spec)(bound)
    return spec


def program_identity(task: str, params: dict | None) -> tuple[str, dict]:
    """What names a program task's run: the program's content (its hash),
    not where its file lay, so the same cell run from another folder or a
    clone elsewhere keeps its fingerprint and a sweep resumes it.

    >>> program_identity("rasp:/home/a/g04.rasp", {"program": "/home/a/g04.rasp", "program_hash": "94a60cd1023d"})
    ('rasp:', {'program_hash': '94a60cd1023d'})
    """
    params = dict(params or {})
    path = params.pop("program", "") or task[len(PREFIX) :]
    if not params.get("program_hash"):
        # a configuration not yet validated: the file's content stands in for the hash it will get
        try:
            params["program_hash"] = content_hash(Path(path).read_bytes())
        except OSError:
            raise LengthgenError(f"task {task!r}: no such program file {path!r}") from None
    return PREFIX, params


def content_hash(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=6).hexdigest()
