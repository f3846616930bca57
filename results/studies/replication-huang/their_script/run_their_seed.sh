#!/usr/bin/env bash
# H-R19 (README.md, Amendment 25): Huang et al.'s own training script for
# unique copy, run on this CPU for one of their seeds.  Their code is not
# in this repository: it is read from a snapshot of
# lacoco-lab/length_generalization (commit b39b743) and run in a scratch
# folder.  The one change is the driver's seed loop, `range(1000)` ->
# `range(SEED, SEED + 1)`, so that one process trains one seed and a
# seed below 100% in range is reported, not replaced by the next seed.
# Everything else (data, model, Trainer settings, early stop, evaluation)
# is theirs.  Needs a venv with torch, transformers 4.45.2 (the last
# version that accepts their `evaluation_strategy`) and accelerate.
#
# usage: run_their_seed.sh SEED [PYTHON]
set -euo pipefail
seed=${1:?usage: run_their_seed.sh SEED [PYTHON]}
python=${2:-/work/hf-venv/bin/python}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${HUANG_MIRROR:-/work/.mirror/lacoco-lab+length_generalization/repo}
commit=b39b743
scratch=$(mktemp -d "${TMPDIR:-/tmp}/huang-seed-$seed.XXXX")
for f in language_modeling_train.py run_multiple_seeds.py; do
    git --git-dir="$mirror" show "$commit:algorithmic/$f" > "$scratch/$f"
done
grep -q "for seed in range(1000):" "$scratch/run_multiple_seeds.py" \
    || { echo "their seed loop is not where expected" >&2; exit 1; }
sed -i "s/for seed in range(1000):/for seed in range($seed, $seed + 1):/" "$scratch/run_multiple_seeds.py"
log="$here/seed-$seed.log"
{
    echo "# their run_multiple_seeds.py at $commit, seed $seed only, on $(hostname) from $(date -u +%FT%TZ)"
    "$python" -c "import torch, transformers, accelerate; print('# torch', torch.__version__, 'transformers', transformers.__version__, 'accelerate', accelerate.__version__, 'threads', torch.get_num_threads())"
    sha256sum "$scratch"/*.py | sed "s|$scratch/|# |"
} > "$log"
start=$(date +%s)
(cd "$scratch" && OMP_NUM_THREADS=1 TQDM_DISABLE=1 PYTHONUNBUFFERED=1 \
    "$python" run_multiple_seeds.py --tasks unique_copy --num_run 1) >> "$log" 2>&1
end=$(date +%s)
cp "$scratch/lm-out-new-multi-run/unique_copy-average.txt" "$here/seed-$seed-summary.txt"
echo "# finished $(date -u +%FT%TZ), wall $((end - start)) s" >> "$log"
rm -rf "$scratch"
