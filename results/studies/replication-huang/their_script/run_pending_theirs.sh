#!/usr/bin/env bash
# The runs of their script still to do, in order: H-R19 (Amendment 25,
# their seeds 0-4, their inits) then H-R21 (Amendment 27, their driver from
# our full-scale seeds 0, 2, 3).  A run whose log ends "# finished" is done
# and skipped.  Their Trainer saves nothing on the way (save_strategy "no"),
# so a run stopped mid-way starts again from step 0: start this only with
# about 90 minutes per run left before the session ends; ONE=1 runs one.
#
#   bash results/studies/replication-huang/their_script/run_pending_theirs.sh [PYTHON]
#   DRY_RUN=1 bash .../run_pending_theirs.sh      # list what is done and what is left
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${1:-/work/hf-venv/bin/python}
ours=${OURS_PYTHON:-$(git -C "$here" rev-parse --show-toplevel)/.venv/bin/python}
export OMP_NUM_THREADS=1 TQDM_DISABLE=1 PYTHONUNBUFFERED=1

done_log() { [ -f "$1" ] && grep -q "^# finished" "$1"; }

jobs=()
for s in 0 1 2 3 4; do jobs+=("h-r19 $s"); done
for s in 0 2 3; do jobs+=("h-r21 $s"); done
for job in "${jobs[@]}"; do
    set -- $job
    test=$1 seed=$2
    if [ "$test" = h-r19 ]; then log=$here/seed-$seed.log; else log=$here/h-r21-seed-$seed.log; fi
    if done_log "$log"; then echo "done    $test seed $seed ($log)"; continue; fi
    echo "to run  $test seed $seed"
    [ -n "${DRY_RUN:-}" ] && continue
    if [ "$test" = h-r19 ]; then
        bash "$here/run_their_seed.sh" "$seed" "$python"
    else
        init=$(mktemp "${TMPDIR:-/tmp}/our-init-$seed.XXXX.pt")
        "$ours" "$here/our_init.py" "$seed" "$init"
        start=$(date +%s)
        {
            echo "# H-R21: their run_multiple_seeds.py at b39b743, seed $seed, from our full-scale seed $seed's weights, on $(hostname) from $(date -u +%FT%TZ)"
            "$python" -c "import torch, transformers, accelerate; print('# torch', torch.__version__, 'transformers', transformers.__version__, 'accelerate', accelerate.__version__, 'threads', torch.get_num_threads())"
        } > "$log"
        "$python" "$here/run_their_driver.py" "$seed" --init "$init" >> "$log" 2>&1
        echo "# finished $(date -u +%FT%TZ), wall $(( $(date +%s) - start )) s" >> "$log"
        rm -f "$init"
    fi
    [ -n "${ONE:-}" ] && break
done
