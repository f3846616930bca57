#!/usr/bin/env bash
# Trains conjecture-v3 cells on a lent GPU machine (run from the repository
# root there; the study's code, a copy of the ce57c86 package, in .sweepcode/).
# Usage: bash results/studies/conjecture-v3/gpu/run.sh SECONDS WORKERS SUITE...
# Each suite's bench gets WORKERS processes, all sharing the one GPU; after
# SECONDS the benches get SIGTERM (each cell in training checkpoints), and
# the finished results and the checkpoints of unfinished cells are packed
# into $OUT (files under 15 MiB, the transfer's limit).
set -u
seconds=$1; workers=$2; shift 2
here=results/studies/conjecture-v3
export PYTHONPATH=$PWD/.sweepcode:$PWD/$here/gpu OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
# The tool re-copies the working tree before each call and drops untracked
# files, so results finished by an earlier call on the same (warm) machine
# are kept in /tmp/keep and put back first; otherwise bench retrains them.
[ -d /tmp/keep ] && cp -rn /tmp/keep/. . && echo "restored $(find /tmp/keep -name '*.json' | wc -l) results of earlier calls"
python3 -c "import lengthgen, sitecustomize, torch; print(lengthgen.__file__, sitecustomize.__file__, torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))"
for s in "$@"; do
  timeout -s TERM "$seconds" python3 -m lengthgen bench --suite $here/suite-$s.yaml --out $here/runs \
    --workers "$workers" --threads 1 > "$OUT/bench-$s.log" 2>&1 &
done
wait
for s in "$@"; do tail -n 3 "$OUT/bench-$s.log"; ls $here/runs/conjecture-v3-$s/*.json 2>/dev/null | wc -l; done
dirs=$(for s in "$@"; do echo $here/runs/conjecture-v3-$s; done)
tar czf /tmp/cells.tgz $(find $dirs -name "*.json" -o -name "*.curve.csv")
tar cf /tmp/ckpt.tar $(find $dirs -name "*.ckpt.pt")
cp /tmp/cells.tgz "$OUT/"
mkdir -p /tmp/keep && tar xzf /tmp/cells.tgz -C /tmp/keep
split -b 15m /tmp/ckpt.tar "$OUT/ckpt.tar.part-"
ls -la "$OUT"
