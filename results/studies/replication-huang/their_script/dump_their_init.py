"""Their GPT-2 for unique copy at initialisation, for one of their seeds.

    /work/hf-venv/bin/python dump_their_init.py SEED OUT.pt [MIRROR]

Runs their `run_multiple_seeds.py` (read from the snapshot at b39b743, the
seed loop set to SEED alone, as `run_their_seed.sh` does) with the
Trainer's `train` replaced by a dump of the model it was handed: so the
weights are exactly those their run for SEED starts from.  Also saves
their logits on a fixed batch of copy sequences at random offsets, for
`their_init.py` to check that our transformer, given these weights,
computes the same function.  Needs transformers (a venv of its own).
"""

import contextlib
import sys
import tempfile
from pathlib import Path

import torch
import transformers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_their_driver import run_their_driver_in, write_their_code  # noqa: E402


class Dumped(SystemExit):
    pass


def main(seed: int, out: Path, mirror: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        write_their_code(scratch, seed, mirror)

        def dump(trainer, *args, **kwargs):
            model = trainer.model.eval()
            gen = torch.Generator().manual_seed(1234)
            batch, n = 6, 40  # copies of 40 symbols: <bos> x <sep> x <eos>
            symbols = torch.stack([torch.randperm(150, generator=gen)[:n] for _ in range(batch)])
            ids = torch.cat(
                [
                    torch.full((batch, 1), 150),
                    symbols,
                    torch.full((batch, 1), 151),
                    symbols,
                    torch.full((batch, 1), 152),
                ],
                1,
            )
            offsets = torch.randint(0, 2 * (150 - n) + 1, (batch, 1), generator=gen)
            pos = offsets + torch.arange(ids.shape[1])
            with torch.no_grad():
                logits = model(input_ids=ids, position_ids=pos).logits
            torch.save(
                {
                    "seed": seed,
                    "state_dict": {k: v.clone() for k, v in model.state_dict().items()},
                    "input_ids": ids,
                    "position_ids": pos,
                    "logits": logits,
                    "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
                    "config": model.config.to_dict(),
                },
                out,
            )
            raise Dumped(0)

        transformers.Trainer.train = dump
        with contextlib.suppress(Dumped):
            run_their_driver_in(scratch)


if __name__ == "__main__":
    main(
        int(sys.argv[1]),
        Path(sys.argv[2]).resolve(),
        sys.argv[3] if len(sys.argv) > 3 else "/work/.mirror/lacoco-lab+length_generalization/repo",
    )
