#!/usr/bin/env bash
# The replication table from the committed result files, their numbers
# beside ours (reference.yaml): every arm at half scale (bins (L, 2L] and
# (2L, 3L] of L = 25), counted as this study counts (fitted in range) and as
# Huang et al. count (100% at L), then the full-scale arms (L = 50).
# Usage: bash results/studies/replication-huang/table.sh > results/studies/replication-huang/table.md
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
lg=${LENGTHGEN:-lengthgen}
half=() full=()
for f in "$D"/runs/*/; do
  case $f in *-50*/) full+=("$f") ;; *) half+=("$f") ;; esac
done
echo "# Huang et al. replication: the table from the result files"
echo
echo "Made by \`bash results/studies/replication-huang/table.sh\`; exact match %, mean over counted seeds, [lowest, highest] beside it; Huang et al.'s numbers in the reference columns."
echo
echo "## Half scale (train 1-25, bins 26-50 / 51-75), seeds counted when fitted in range"
echo
"$lg" bins "${half[@]}" --bins 26-50 51-75 --reference "$D/reference.yaml"
echo
echo "## Half scale, seeds counted as Huang et al. count them (100% at L)"
echo
"$lg" bins "${half[@]}" --bins 26-50 51-75 --reference "$D/reference.yaml" --count perfect
echo
echo "## Full scale (train 1-50, bins 51-100 / 101-150), seeds counted when fitted in range"
echo
"$lg" bins "${full[@]}" --bins 51-100 101-150 --reference "$D/reference.yaml"
