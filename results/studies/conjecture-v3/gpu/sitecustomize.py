"""Loaded by every Python process (the bench workers too) whose PYTHONPATH
holds this folder; used for the conjecture-v3 cells trained on a GPU.

The training loop of the study's code (ce57c86) turns on bf16 autocast
whenever it trains on CUDA, while every CPU cell of the study trained in
float32.  So that the device is the only difference between a GPU cell and
a CPU cell, this turns autocast (and TF32 matmuls) off before any cell is
built.  Each process says once on stderr that it did.
"""

import sys

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

try:
    from lengthgen.training import loop as _loop
except ImportError:  # a process without lengthgen on its path: nothing to patch
    _loop = None

if _loop is not None:
    _init = _loop.Trainer.__init__

    def _float32_init(self, *args, **kwargs):
        _init(self, *args, **kwargs)
        if self.autocast:
            print("conjecture-v3 gpu: bf16 autocast off, training in float32", file=sys.stderr, flush=True)
        self.autocast = False

    _loop.Trainer.__init__ = _float32_init
