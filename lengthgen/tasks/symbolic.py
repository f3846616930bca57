"""Symbolic relational reasoning over abstract symbols (Boix-Adsera et al., 2023).

A *template* is a string of wildcards such as ``α β α``; an instance binds
each wildcard to a distinct concrete symbol.  Symbols ``s0 .. s{N-1}`` are
split once: the first ``(1 - heldout) * N`` are training symbols, the rest
are held out.  ``symbols=test`` draws instances from held-out symbols only,
so a model must have learned the relation, not the symbols.
"""

from __future__ import annotations

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.tasks.base import Batch, Param, Task, distinct_rows, register_task

SYMBOL_PARAMS = {
    "num_symbols": Param(200, "size of the symbol vocabulary", minimum=4),
    "heldout": Param(0.25, "fraction of symbols held out for testing"),
    "symbols": Param("train", "which symbols instances use", choices=("train", "test", "all")),
}


def canonical(pattern) -> tuple[int, ...]:
    """Relabel a sequence by order of first appearance: ``s7 s2 s7`` -> ``(0, 1, 0)``."""
    first: dict = {}
    return tuple(first.setdefault(x, len(first)) for x in pattern)


class SymbolTask(Task):
    family = "symbolic"
    length_unit = "template length"
    min_length = 2

    def validate(self):
        if not 0.0 < self.heldout < 1.0:
            raise LengthgenError(f"parameter 'heldout' must be strictly between 0 and 1, got {self.heldout}")
        n_train = self.num_train_symbols
        if n_train < 2 or self.num_symbols - n_train < 2:
            raise LengthgenError(
                "the symbol split leaves fewer than 2 symbols on one side; change num_symbols or heldout"
            )

    @property
    def num_train_symbols(self) -> int:
        return int(round(self.num_symbols * (1.0 - self.heldout)))

    def symbol_range(self) -> tuple[int, int]:
        n_train = self.num_train_symbols
        return {"train": (0, n_train), "test": (n_train, self.num_symbols), "all": (0, self.num_symbols)}[self.symbols]

    def max_length(self):
        lo, hi = self.symbol_range()
        return hi - lo

    def label_tokens(self) -> list[str]:
        return []

    def build_tokens(self):
        return self.label_tokens() + [f"s{k}" for k in range(self.num_symbols)]

    def bind(self, rng, templates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Instances of ``templates`` [B, k] (wildcard indices): each wildcard
        ``w`` is bound to a distinct symbol of the chosen split.  Returns the
        token ids and the bound symbol ids [B, k] (column ``w`` = wildcard w)."""
        lo, hi = self.symbol_range()
        batch, k = templates.shape
        symbols = distinct_rows(rng, batch, k, hi - lo) + lo + self.id("s0")
        return np.take_along_axis(symbols, templates, axis=1), symbols


@register_task
class SameDifferent(SymbolTask):
    """Same-different: do positions ``i`` and ``j`` hold the same symbol?

    Input ``k`` symbols; with probability 1/2 position ``j`` repeats position
    ``i``; target ``same`` or ``different``.  Length = ``k``.  Negative
    ``i``/``j`` count from the end.

    Version 2 (``distractors=true``, lengths >= 4): the symbols at ``i`` and
    ``j`` each repeat somewhere in every input, and the repeated pairs have
    the same count and multiplicities under both labels (``different``:
    ``i`` and ``j`` each repeat elsewhere; ``same``: ``i`` repeats at ``j``
    plus one other pair; then the same number of extra pairs), so neither
    "some symbol repeats", "how many repeat" nor "does the symbol at i
    repeat" predicts the label: only comparing positions ``i`` and ``j``
    does.  Lengths 2 and 3 have no room for distractors.  ``distractors=false`` is version 1, where the label equals
    "any symbol repeats".

    Example (length 6, i=0, j=-1): ``s4 s9 s2 s9 s7 s4`` -> ``same``;
    ``s4 s5 s2 s4 s2 s5`` -> ``different``.
    """

    name = "same-different"
    version = 2
    legacy_params = {1: {"distractors": False}}
    params = {
        **SYMBOL_PARAMS,
        "i": Param(0, "first compared position"),
        "j": Param(-1, "second compared position"),
        "distractors": Param(True, "repeat other pairs so only positions i and j decide the label (v2)"),
    }

    def label_tokens(self):
        return ["same", "different"]

    def validate(self):
        super().validate()
        self.min_length = max(2, *(p + 1 if p >= 0 else -p for p in (self.i, self.j)))

    def check_length(self, length):
        super().check_length(length)
        inside = all(-length <= p < length for p in (self.i, self.j))
        if not inside or self.i % length == self.j % length:
            raise LengthgenError(
                f"task 'same-different': positions i={self.i}, j={self.j} must be distinct and inside length {length}"
            )

    def _sample(self, rng, batch_size, length):
        i, j = self.i % length, self.j % length
        templates = np.broadcast_to(np.arange(length), (batch_size, length)).copy()
        same = rng.random(batch_size) < 0.5
        templates[same, j] = i
        others = np.array([p for p in range(length) if p not in (i, j)], dtype=np.int64)
        if self.distractors and len(others) >= 2:
            rows = np.arange(batch_size)
            perm = others[np.argsort(rng.random((batch_size, len(others))), axis=1)]
            a, b = perm[:, 0], perm[:, 1]
            # "different": the symbols at i and at j each repeat elsewhere;
            # "same": i repeats at j and one other pair repeats.  Either way two
            # symbols occur twice, so no count or "does i repeat" test works.
            diff = ~same
            templates[rows[diff], a[diff]] = i
            templates[rows[diff], b[diff]] = j
            templates[rows[same], b[same]] = templates[rows[same], a[same]]
            extra_max = (len(others) - 2) // 2
            if extra_max:
                extra = rng.integers(0, extra_max + 1, size=batch_size)
                for p in range(extra_max):
                    use = extra > p
                    src, dst = perm[use, 2 + 2 * p], perm[use, 3 + 2 * p]
                    templates[rows[use], dst] = templates[rows[use], src]
        inputs, _ = self.bind(rng, templates)
        label = np.where(same, self.id("same"), self.id("different"))
        return Batch.fixed(inputs, label[:, None])

    def reference(self, inputs):
        return ["same" if inputs[self.i] == inputs[self.j] else "different"]

    def extra_baselines(self):
        def any_repeat(task, batch, ref):
            # "same" whenever any symbol occurs twice, whatever the compared pair
            ordered = np.sort(batch.inputs, axis=1)
            repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
            return np.where(repeated, task.id("same"), task.id("different"))[:, None]

        def i_repeats(task, batch, ref):
            i = task.i % batch.inputs.shape[1]
            first = batch.inputs[:, i : i + 1]
            repeated = (batch.inputs == first).sum(axis=1) > 1
            return np.where(repeated, task.id("same"), task.id("different"))[:, None]

        return {
            "any-repeat": ("'same' when any symbol repeats anywhere in the input", any_repeat),
            "i-repeats": ("'same' when the symbol at position i occurs again anywhere", i_repeats),
        }


class TemplateBank(SymbolTask):
    """Tasks whose instances come from a fixed random set of templates per length.

    Each length has its own bank and labels (drawn from ``template_seed`` and
    the length), so these tasks are meant to be used at one fixed length with
    held-out symbols as the generalization axis, as in Boix-Adsera et al.;
    accuracy at a length other than the trained one measures a different
    task, not length generalization (the benchmark files use one length)."""

    min_length = 3  # length 2 has only two patterns (αα, αβ)

    def templates(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        """(templates [T, length] of wildcard indices, labels [T]), fixed by
        ``template_seed`` and ``length`` so every run sees the same set."""
        cache = self.__dict__.setdefault("_templates", {})
        if length not in cache:
            rng = np.random.default_rng([self.template_seed, length])
            seen: dict[tuple[int, ...], None] = {}
            for _ in range(1000 * self.num_templates):
                raw = rng.integers(0, self.wildcards, size=length)
                seen.setdefault(canonical(raw), None)
                if len(seen) == self.num_templates:
                    break
            else:
                raise LengthgenError(
                    f"task {self.name!r}: cannot draw {self.num_templates} distinct templates of length {length} "
                    f"with {self.wildcards} wildcards"
                )
            templates = np.array(list(seen), dtype=np.int64)
            cache[length] = (templates, self.template_labels(rng, templates))
        return cache[length]

    def template_labels(self, rng, templates):
        raise NotImplementedError

    def check_length(self, length):
        super().check_length(length)
        self.templates(length)

    def _sample(self, rng, batch_size, length):
        templates, labels = self.templates(length)
        pick = rng.integers(0, len(templates), size=batch_size)
        inputs, symbols = self.bind(rng, templates[pick])
        return Batch.fixed(inputs, self.targets_for(symbols, labels[pick])[:, None])

    def lookup(self, inputs):
        templates, labels = self.templates(len(inputs))
        pattern = canonical(inputs)
        for template, label in zip(templates, labels):
            if tuple(template) == pattern:
                return int(label)
        raise ValueError(f"input {inputs} matches no template")


TEMPLATE_PARAMS = {
    **SYMBOL_PARAMS,
    "num_templates": Param(4, "number of templates per length", minimum=1),
    "wildcards": Param(3, "number of distinct wildcards a template draws from", minimum=1),
    "template_seed": Param(0, "seed of the fixed template set", minimum=0),
}


@register_task
class SymbolTemplate(TemplateBank):
    """Symbol-template classification: which template produced the input?

    A fixed random set of ``num_templates`` templates (per length) over up to
    ``wildcards`` wildcards, each with a random label ``L0 .. L{m-1}``.  An
    instance binds the wildcards of one template to distinct symbols; the
    target is that template's label.  Length = template length.

    Example (length 3, templates ``α β α -> L1``, ``α α β -> L0``):
    ``s12 s40 s12`` -> ``L1``.
    """

    name = "symbol-template"
    params = {**TEMPLATE_PARAMS, "num_labels": Param(2, "number of label classes", minimum=2)}

    def label_tokens(self):
        return [f"L{k}" for k in range(self.num_labels)]

    def template_labels(self, rng, templates):
        return rng.integers(0, self.num_labels, size=len(templates))

    def targets_for(self, symbols, labels):
        return labels + self.id("L0")

    def reference(self, inputs):
        return [f"L{self.lookup(inputs)}"]


@register_task
class VariableCopy(TemplateBank):
    """Variable copy: next-token prediction whose answer is an input symbol.

    Each template (fixed random set per length) names one of its wildcards
    as the answer; the target is the concrete symbol bound to it, so at test
    time the model must output symbols it never produced in training.
    Length = template length.

    Example (length 3, template ``α β α -> β``): ``s12 s40 s12`` -> ``s40``.
    """

    name = "variable-copy"
    symbolic_answers = True
    baselines = ("input-mode-answer-token", "first-input-token", "last-input-token")
    params = TEMPLATE_PARAMS

    def template_labels(self, rng, templates):
        # The answer is a wildcard that occurs in the template.
        return np.array([rng.choice(np.unique(t)) for t in templates], dtype=np.int64)

    def targets_for(self, symbols, labels):
        return symbols[np.arange(len(symbols)), labels]

    def reference(self, inputs):
        wildcard = self.lookup(inputs)
        firsts = []
        for tok in inputs:
            if tok not in firsts:
                firsts.append(tok)
        return [firsts[wildcard]]
