#!/usr/bin/env bash
# Runs the pending cells of results/README.md ("Pending cells") in two lanes,
# one core each, each suite from the frozen checkout of the code that trained
# its earlier cells (a study's cells must all come from one version of the
# training code), with results written into this checkout.  Resumable: bench
# skips finished cells and resumes checkpointed ones.
#
#   bash results/run_pending.sh LANE        # LANE: studies (replication-huang, then conjecture-v3's NoPE arms)
#                                           #   or records (sota's addition arms, then generated, adaptive-v3, its fair ACT, the replication's NoPE arm, generated-v2)
#   DRY_RUN=1 bash results/run_pending.sh LANE   # list the cells and their status only
#
# PYTHON (default: .venv/bin/python of this checkout) must have torch and the
# package's dependencies; the frozen code is put first by running from its
# worktree (../lengthgen-ce57c86, ../lengthgen-f853bfe, ..., made here if missing).
set -euo pipefail
lane=${1:?usage: bash results/run_pending.sh studies|records}
root=$(git rev-parse --show-toplevel)
python=${PYTHON:-$root/.venv/bin/python}
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1

frozen() {  # frozen COMMIT -> the worktree's path
  local dir
  dir=$(dirname "$root")/lengthgen-$1
  [ -d "$dir" ] || git -C "$root" worktree add --detach "$dir" "$1" >/dev/null
  # a folder of that name left at another commit, or edited, would train
  # the study's cells with other code: refuse rather than mix versions
  if [ "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" != "$(git -C "$root" rev-parse "$1^{commit}")" ] \
    || [ -n "$(git -C "$dir" status --porcelain --untracked-files=no)" ]; then
    echo "error: $dir is not a clean checkout of $1; remove it (git worktree remove --force $dir) and rerun" >&2
    exit 2
  fi
  echo "$dir"
}

run() {  # run COMMIT STUDY SUITE...   (ONLY=TASKS, PE=ENCODINGS, SEEDS=0-2: just those cells; KEEP=1: bench keeps each cell's final checkpoint beside its result, code of 2026-12-06 on)
  local code study=$root/results/studies/$2
  code=$(frozen "$1")
  shift 2
  for suite in "$@"; do
    echo "== $(date -u +%FT%TZ) $suite (code $(git -C "$code" rev-parse --short HEAD))${ONLY:+ tasks $ONLY}${PE:+ pe $PE}${SEEDS:+ seeds $SEEDS}"
    (cd "$code" && "$python" -m lengthgen bench --suite "$study/$suite.yaml" --out "$study/runs" --workers 1 --threads 1 ${ONLY:+--tasks "$ONLY"} ${PE:+--pe "$PE"} ${SEEDS:+--seeds "$SEEDS"} ${KEEP:+--keep-checkpoints} ${DRY_RUN:+--dry-run})
  done
}

keep_checkpoints() {  # keep_checkpoints FOLDER: copy each cell's latest checkpoint to FOLDER/../checkpoints
  # the last copy a cell leaves is its final model: the trainer writes a
  # checkpoint at the last step (written whole, then renamed), and the cell
  # evaluates for as little as 2 seconds before bench deletes it, hence the
  # short poll (at 3 s one final checkpoint was missed; bench of the current
  # code keeps them itself with --keep-checkpoints)
  local dst
  dst=$(dirname "$1")/checkpoints
  mkdir -p "$dst"
  # this runs under set -e and pipefail: a find of a folder bench has not
  # made yet fails, and must not end the loop
  while true; do
    { find "$1" -name '*.ckpt.pt' 2>/dev/null || true; } | while read -r f; do
      b=$(basename "$f")
      if [ ! -e "$dst/$b" ] || [ "$f" -nt "$dst/$b" ]; then
        cp -p "$f" "$dst/.$b.tmp" 2>/dev/null && mv "$dst/.$b.tmp" "$dst/$b"
      fi
    done
    sleep 0.2
  done
}

case $lane in
  studies)
    # replication-huang first: the long-range NoPE arm's verdict is fixed by
    # its 40 cells (3 program benchmarks scored, the rule needs 4), so its
    # last 20 cells only complete the descriptive table.  The package code
    # of 6d5bfbc is the current one; its training code is f853bfe's, which
    # trained the study's earlier cells (README, Amendment 6: parity's data
    # option).  Order: the open tests first: sort and mode at the whole
    # budget (Amendment 4), then the 1-head gap (H-R2, Amendment 5, and the
    # untied 1-head seeds it is read beside), mode's width (H-R3, Amendment
    # 7, run only if Amendment 4's mode prediction fails); copy-repeat and
    # parity, predicted to fail at about 4x a cell's cost, and the NoPE arm
    # after
    ONLY=sort,mode run 6d5bfbc replication-huang suite-learned-full
    run 6d5bfbc replication-huang suite-learned-4h-full suite-learned-1h-tied suite-mode-width
    # H-R5 (Amendment 9): the NoPE arm's mode first
    ONLY=mode run 6d5bfbc replication-huang suite-nope
    # H-R6 (Amendment 10): mode over 13 letters, before H-R4 (order only)
    run 6d5bfbc replication-huang suite-mode-alphabet
    # H-R4 (Amendment 8) needs the transformer's bos option, first in 028f7f0
    run 028f7f0 replication-huang suite-learned-1h-bos
    # H-R7 (Amendment 11): bos untied, to split H-R4's two details
    run 028f7f0 replication-huang suite-learned-1h-bos-untied
    # H-R8 (Amendment 12): four of H-R4's and H-R7's cells trained again, bit
    # for bit, keeping each one's final checkpoint (bench of 028f7f0 deletes
    # it when the cell ends) for copy_mechanism.py
    keep_checkpoints "$root/results/studies/replication-huang/diagnosis/runs" &
    keeper=$!
    run 028f7f0 replication-huang/diagnosis suite-copy-mechanism-untied suite-copy-mechanism-tied
    sleep 5; kill "$keeper" || true
    # copy-repeat and parity (their table's rows with no number of ours yet)
    # before the untied 1-head seeds, which H-R2 and H-R4 already answer for
    # the 1-head gap (order only, 2026-12-05); the NoPE arm and the control,
    # rows of their table too, before those seeds as well (order only,
    # 2026-12-06: H-R4, H-R7 and H-R8-H-R11 answered the 1-head question)
    # H-R13 (Amendment 18): H-R4's model at their full lengths, after
    # copy-repeat's last seed and before parity (order only, 2026-12-06),
    # keeping each cell's final checkpoint for the hole probe
    ONLY=copy-repeat run 6d5bfbc replication-huang suite-learned-full
    keep_checkpoints "$root/results/studies/replication-huang/runs" &
    keeper=$!
    # H-R13b (Amendment 19, code f8cfdc0) ran because H-R13 read
    # inconclusive after its seed 3 (3 seeds not fitted; the lane counted
    # them after each seed), before H-R13's remaining seed 4.  Its seeds 0-2
    # first, then H-R17 (Amendment 23: initialisation and training stream
    # crossed between H-R4's early and late seeds, the option data_seed,
    # first in d8ba2e2; registered for the records lane after the fair ACT
    # and moved here before any of its cells, order only, 2026-12-06: the
    # fair ACT's Hyper-UT cells take about 40 CPU-minutes each, and H-R13b's
    # first two seeds ended as H-R13's did, which H-R17 asks about), then
    # H-R13b's seeds 3-4 and H-R13's seed 4.  bench keeps H-R17's final
    # checkpoints beside its results; the keeper copies every one here.
    SEEDS=0-3 run 028f7f0 replication-huang suite-learned-1h-bos-50
    SEEDS=0-2 run f8cfdc0 replication-huang suite-learned-1h-bos-50-hf
    KEEP=1 run d8ba2e2 replication-huang suite-learned-1h-bos-crossed-late-init suite-learned-1h-bos-crossed-early-init
    run f8cfdc0 replication-huang suite-learned-1h-bos-50-hf
    # H-R20 (Amendment 26): H-R4's late seeds with their GPT-2's scored
    # <bos> and GELU (code ce4b721, the first with the options), before
    # H-R13's seed 4 (order only)
    KEEP=1 run ce4b721 replication-huang suite-learned-1h-bos-gpt2-head
    # H-R20 held (2 of 2): its second part (Amendment 28), H-R13b's cells with
    # both options, seeds 0, 2, 3 then 1 and 4 (code 6a5f611: the scored start
    # vector decayed with the token table)
    KEEP=1 run 6a5f611 replication-huang suite-learned-1h-bos-50-hf-gpt2-head
    SEEDS=4 run 028f7f0 replication-huang suite-learned-1h-bos-50
    sleep 5; kill "$keeper" || true
    # parity, the last row of their table with learned positions and no
    # number of ours, then H-R14 (Amendment 20: new seeds of H-R4's cells,
    # final checkpoints kept for the hole probe)
    ONLY=parity run 6d5bfbc replication-huang suite-learned-full
    # the NoPE arm's copy-repeat and parity, the last rows #27 waits on, here
    # after learned parity and before H-R14's new seeds (order only,
    # 2026-12-07; every H-R14 class already has registered seeds read); the
    # records lane takes some of their cells from the other end, after H-R23;
    # parity first (10:22, with copy-repeat's last seed held by the records
    # lane, on whose lock this lane would otherwise wait some 40 minutes)
    ONLY=parity run 6d5bfbc replication-huang suite-nope
    ONLY=copy-repeat run 6d5bfbc replication-huang suite-nope
    # H-R25 (Amendment 32): the NoPE copy-repeat cell of seed 0 again, its
    # final model kept, to score a bin at every length as Huang et al. do
    KEEP=1 run 62483f2 replication-huang/diagnosis suite-copy-repeat-nope-kept
    keep_checkpoints "$root/results/studies/replication-huang/runs" &
    keeper=$!
    run 028f7f0 replication-huang suite-learned-1h-bos-pattern
    sleep 5; kill "$keeper" || true
    # the NoPE arm's copy-unique and sort ran in the records lane (after the
    # fair ACT); its copy-repeat and parity run above
    run 6d5bfbc replication-huang suite-no-offset suite-learned
    run ce57c86 conjecture-v3 suite-nope-short suite-nope-long ;;
  records)
    run f853bfe sota suite-addition-looped suite-addition-looped-rope suite-addition-fire
    # H-F1's ALiBi seeds decide its open prediction; plain FIRE's seed 2 is
    # descriptive (that half was decided at 0 of 2 fitted), so it runs last
    PE=alibi run f853bfe sota suite-addition-fire-diagnosis
    # the generated-task study before adaptive depth: the conjecture's
    # studies come first (the project's order of priorities)
    # from 028f7f0, the training code of f853bfe with program tasks named by
    # their content (the study's README, "Code")
    # RASP-L tasks and controls interleaved (order.py; the suite lists the
    # controls last), so that a partial read holds both groups
    for batch in $("$python" "$root/results/studies/generated/order.py"); do
      ONLY=$batch run 028f7f0 generated suite
    done
    run f853bfe adaptive suites/adaptive-v3 suites/adaptive-v3-banks
    # the fair ACT before generated-v2 (order only, 2026-12-06): it is the
    # last arm an open issue (#35) asks for, and 20 cells against 225
    run f853bfe adaptive suites/adaptive-v3-act
    # the NoPE arm of the Huang et al. replication, rows of #27's table (the
    # project's first priority), before generated-v2, which extends a closed
    # study (order only, 2026-12-06); copy-unique and sort here, copy-repeat
    # and parity in the studies lane
    # H-R22 (Amendment 28): which of H-R20's options, before the NoPE arm
    # (order only; the studies lane holds H-R20's second part)
    KEEP=1 run 6a5f611 replication-huang suite-learned-1h-bos-scored-only suite-learned-1h-bos-gelu-only
    # H-R20's full-scale seed 4 here, beside the studies lane's seeds 3 and 1,
    # so #27's acceptance row lands a session sooner (order only, 2026-12-07;
    # bench's cell lock makes the studies lane wait on, then reuse, this cell)
    KEEP=1 SEEDS=4 run 6a5f611 replication-huang suite-learned-1h-bos-50-hf-gpt2-head
    ONLY=copy-unique,sort run 6d5bfbc replication-huang suite-nope
    # H-R23 (Amendment 30): which side of the scored start logit carries
    # H-R22's effect (code 62483f2, the first with bos_score_grad), after
    # the NoPE arm's copy-unique and sort, before its copy-repeat and parity
    KEEP=1 run 62483f2 replication-huang suite-learned-1h-bos-scored-start suite-learned-1h-bos-scored-hidden
    # the NoPE arm's parity here too, beside the studies lane's copy-repeat,
    # so that #27's last two rows land sooner (order only, 2026-12-07):
    # parity's seeds 0-2, then copy-repeat's seeds 4 and 3 from the other end
    # (a copy-repeat cell takes about 50 CPU-minutes, twice parity's), then
    # parity's last two; bench's cell lock makes a lane wait on a cell the
    # other holds, so the lanes take different cells until they meet;
    # parity's last two seeds went to the studies lane (10:22) and this
    # lane goes on from copy-repeat's seed 3 to H-R24
    ONLY=parity SEEDS=0-2 run 6d5bfbc replication-huang suite-nope
    ONLY=copy-repeat SEEDS=4 run 6d5bfbc replication-huang suite-nope
    ONLY=copy-repeat SEEDS=3 run 6d5bfbc replication-huang suite-nope
    # H-R24 (Amendment 31): the NoPE arm's copy-unique with their scored
    # <bos> (its row without it never fits, as the learned arm's did not)
    # (H-R25, Amendment 32: the learned copy-repeat cell of seed 0 again,
    # its final model kept, after H-R24's seed 0 and before the rest)
    KEEP=1 SEEDS=0 run 62483f2 replication-huang suite-nope-bos-scored
    KEEP=1 run 62483f2 replication-huang/diagnosis suite-copy-repeat-learned-kept
    KEEP=1 run 62483f2 replication-huang suite-nope-bos-scored
    # H-R26 (Amendment 33): the NoPE copy-repeat cells at their full
    # lengths (1-50), final models kept for bin_composition.py
    KEEP=1 run 62483f2 replication-huang suite-nope-copy-repeat-50
    # generated-v2 (registered at 8f8e524, trained by that commit's code):
    # after study 2's arms, whose design was registered first
    for batch in $("$python" "$root/results/studies/generated-v2/order.py"); do
      ONLY=$batch run 8f8e524 generated-v2 suite
    done
    run f853bfe sota suite-addition-fire-diagnosis ;;
  *) echo "unknown lane $lane (studies or records)" >&2; exit 2 ;;
esac
