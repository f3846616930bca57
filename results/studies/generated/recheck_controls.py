"""Two checks added to `lengthgen rasp generate` after this study's draw and
before any of its cells, applied here to the drawn tasks (run once):

1. dead statements are removed (a control's only broken rule sat in a
   statement its answer never reads: c04-c52fe0a4 computes exactly what a
   random RASP-L program computes at every length checked);
2. a control whose answers on the fixed sample equal those of one of
   20,000 random RASP-L programs is not a control.

Controls failing either are removed from tasks.yaml (listed under
`rechecked`); every other file is rewritten without its dead statements
(same answers, same normal-form length).

    python results/studies/generated/recheck_controls.py
"""

from pathlib import Path

import yaml

from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.errors import RaspError
from lengthgen.rasp.generate import POOL_DRAWS, VOCAB, Sample, TokenCodes, live_lines, rasp_l_pool, signature

HERE = Path(__file__).resolve().parent / "tasks"


def main() -> None:
    doc = yaml.safe_load((HERE / "tasks.yaml").read_text())
    if "rechecked" in doc:
        print("already rechecked")
        return
    codes = TokenCodes(VOCAB)
    sample = Sample(codes)
    pool = rasp_l_pool(codes, sample, POOL_DRAWS, doc["settings"]["seed"])
    kept, dropped = [], {}
    for rec in doc["tasks"]:
        path = HERE / rec["file"]
        text = path.read_text()
        head, body = text.split("\n\n", 1)
        live = "\n".join(live_lines(body.strip().splitlines())) + "\n"
        before = signature(compile_source(text, rec["file"], codes, strict=False), sample)
        program = compile_source(head + "\n\n" + live, rec["file"], codes, strict=False)
        assert signature(program, sample) == before and program.normal.length == rec["length"], rec["name"]
        if rec["group"] == "control":
            try:
                compile_source(live, rec["file"], codes)
                dropped[rec["name"]] = "its only broken rule was in a dead statement"
            except RaspError:
                if before in pool:
                    dropped[rec["name"]] = "equal on the sample to a random RASP-L program"
        if rec["name"] in dropped:
            path.unlink()
            continue
        path.write_text(head + "\n\n" + live)
        kept.append(rec)
    doc["tasks"] = kept
    doc["rechecked"] = {
        "why": "checks added before any cell (recheck_controls.py): dead statements, a pool of random RASP-L programs",
        "pool_draws": POOL_DRAWS,
        "removed": dropped,
    }
    (HERE / "tasks.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, width=100))
    print(f"removed {len(dropped)}: {dropped}")


if __name__ == "__main__":
    main()
