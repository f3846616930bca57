"""A program as a model: compile it (:mod:`lengthgen.rasp.assemble`), say
its size, check it against the interpreter token for token, and score it
with the suite's own evaluator (greedy decoding, exact match per length)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.evaluate import evaluate_length
from lengthgen.models import MODELS, ModelSpec, register_model
from lengthgen.models.compiled import CompiledTransformer
from lengthgen.rasp.assemble import Assembly, assemble, decode_values, fill, growth, model_arguments, to_model
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import CompiledProgram, compile_file
from lengthgen.tasks import Task
from lengthgen.training.data import to_lm_batch

# examples sampled at the longest length to find the longest sequence a task makes
PROBE_EXAMPLES = 2000


@dataclass
class CompiledModel:
    program: CompiledProgram
    assembly: Assembly
    model: CompiledTransformer
    growing: list[str]

    def size(self) -> dict:
        """Layers, heads, widths and parameters (dense, and the nonzero ones)."""
        asm = self.assembly
        return {
            "layers": asm.n_layers,
            "attention depth": self.program.stats.attention_depth,
            "heads": [len(asm.layer_heads(layer)) for layer in range(asm.n_layers)],
            "width": asm.width,
            "mlp": [self.model.w1[layer].shape[1] for layer in range(asm.n_layers)],
            "parameters": self.model.num_parameters(),
            "nonzero": self.model.nonzero_parameters(),
            "positions": "learned table" if asm.uses_positions else "none",
            "max_len": asm.max_positions,
        }

    def values(self, token_ids: np.ndarray) -> np.ndarray:
        """The program's output at every position, as the model computes it."""
        with torch.no_grad():
            hidden = self.model(torch.from_numpy(np.asarray(token_ids, dtype=np.int64))).hidden
        return decode_values(self.assembly, hidden)


def longest_sequence(task: Task, lengths: list[int]) -> int:
    """Tokens of the longest ``input <sep> target <eos>`` seen in a sample at each length."""
    longest = 0
    for length in lengths:
        batch = task.sample(
            np.random.default_rng([7, length]), PROBE_EXAMPLES if length == max(lengths) else 50, length
        )
        longest = max(longest, int((batch.input_lengths + batch.target_lengths).max()) + 2)
    return longest


def compile_model(program: CompiledProgram, max_len: int, with_growth: bool = True) -> CompiledModel:
    asm = assemble(program.output, program.codes, max_len, causal=program.causal)
    grows = growth(program.output, program.codes, max_len) if with_growth else []
    return CompiledModel(program, asm, to_model(asm), grows)


@dataclass
class Agreement:
    length: int
    n: int
    tokens: int
    disagreements: int
    example: tuple | None = None  # (input codes, interpreter, model) of the first disagreement


def agreement(compiled: CompiledModel, task: Task, lengths: list[int], n: int, seed: int = 0) -> list[Agreement]:
    """Per length: interpreter and compiled model on the same teacher-forced
    sequences, every position compared (not only the target's)."""
    program = compiled.program
    interpreter = program.interpreter()
    rows = []
    for length in lengths:
        lm = to_lm_batch(task.sample(np.random.default_rng([seed, length]), n, length))
        if compiled.assembly.length_bound and lm.tokens.shape[1] > compiled.assembly.max_positions:
            raise LengthgenError(
                f"length {length} makes sequences of {lm.tokens.shape[1]} tokens; the model was compiled for "
                f"{compiled.assembly.max_positions} (raise --max-len)"
            )
        want = interpreter.run(program.codes.id_to_code[lm.tokens])
        got = compiled.values(lm.tokens)
        real = lm.tokens != 0  # padding after a short row is no token of it
        differ = (want != got) & real
        row = Agreement(length, n, int(real.sum()), int(differ.sum()))
        if differ.any():
            i = int(np.argwhere(differ)[0][0])
            keep = real[i]
            row.example = (program.codes.id_to_code[lm.tokens[i][keep]], want[i][keep], got[i][keep])
        rows.append(row)
    return rows


def evaluate(compiled: CompiledModel, task: Task, lengths: list[int], n: int, seed: int = 0) -> list[tuple]:
    """(length, exact %, token %) from the suite's evaluator (greedy decoding)."""
    out = []
    for length in lengths:
        counts = evaluate_length(
            compiled.model, task, length, n, np.random.default_rng([seed, length]), torch.device("cpu"), batch_size=64
        )
        out.append((length, 100 * counts.exact / counts.examples, 100 * counts.tokens_correct / max(1, counts.tokens)))
    return out


class ProgramModel(CompiledTransformer):
    """The model ``compiled`` of ``lengthgen run`` and suites: a RASP-L
    program compiled for the run's task vocabulary, evaluated as it is
    written (a run trains it for no step; its record says 0 steps).

    ``program``: the ``.rasp`` file; ``max_positions``: the longest
    sequence it is written for; ``program_sha256`` is filled in when the run
    is configured, so that the program's text is part of the run's identity
    (an edited program is a new run, never a resumed one)."""

    def __init__(
        self,
        vocab_size: int,
        program: str = "",
        max_positions: int = 256,
        program_sha256: str = "",
        vocabulary: tuple | None = None,
    ):
        if not program:
            raise LengthgenError("model 'compiled' needs its program: --model-opt program=FILE.rasp")
        if vocabulary is None:
            raise LengthgenError("model 'compiled' is compiled for a task's vocabulary; none was given")
        if program_sha256 and program_sha256 != program_hash(program):
            raise LengthgenError(f"{program} changed since this run was configured (its sha256 differs)")
        compiled = compile_file(program, TokenCodes(vocabulary))
        asm = assemble(compiled.output, compiled.codes, max_positions, causal=compiled.causal)
        arguments = model_arguments(asm)
        if arguments.pop("vocab_size") != vocab_size:
            raise LengthgenError(f"{program}: compiled for {asm.vocab_size} tokens, the task has {vocab_size}")
        super().__init__(vocab_size, **arguments)
        fill(self, asm)


def program_hash(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise LengthgenError(f"model 'compiled': cannot read program {path} ({exc.strerror or exc})") from None


def _complete(options: dict[str, Any]) -> dict[str, Any]:
    if options.get("program") and not options.get("program_sha256"):
        options = {**options, "program_sha256": program_hash(options["program"])}
    return options


if "compiled" not in MODELS:
    register_model(
        ModelSpec(
            "compiled",
            ProgramModel,
            "a RASP-L program compiled to transformer weights (--model-opt program=FILE; not trained)",
            signature_of=ProgramModel,
            complete=_complete,
            trainable=False,
        )
    )
