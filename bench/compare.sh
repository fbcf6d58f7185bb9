#!/usr/bin/env bash
# Is this commit slower than another? Runs bench/run.sh (echo baseline, one node, 3-node cluster; no cost growth)
# for BASE and for the working tree, alternating BASE, HEAD, BASE, HEAD, and prints each run's tables and targets:
# compare the ratios to the echo baseline, which each run measures on the same machine a minute apart.
#   bench/compare.sh BASE_REF [--rounds 2] [bench/run.sh options, e.g. --seconds 10 --warmup 5 --skip-cluster]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 ]] || { echo "usage: bench/compare.sh BASE_REF [--rounds N] [bench/run.sh options]" >&2; exit 4; }
base_ref=$1; shift
rounds=2
if [[ ${1:-} == --rounds ]]; then rounds=$2; shift 2; fi

base_tree=$(mktemp -d /tmp/kms-bench-base.XXXXXX)
trap 'git worktree remove --force "$base_tree" >/dev/null 2>&1 || true' EXIT
git worktree add --detach -q "$base_tree" "$base_ref"
echo "base: $(git -C "$base_tree" log --oneline -1)"
echo "head: $(git log --oneline -1)$([[ -n $(git status --porcelain) ]] && echo ' (with uncommitted changes)')"

tables=$(mktemp)
for round in $(seq "$rounds"); do
  for side in base head; do
    tree=$PWD; [[ $side == base ]] && tree=$base_tree
    echo "== round $round: $side"
    log=$(mktemp)
    (cd "$tree" && bench/run.sh --skip-growth "$@") | tee "$log"
    { echo "round $round, $side:"; grep -E '^(\||target )' "$log"; echo; } >>"$tables"
  done
done
echo
cat "$tables"
