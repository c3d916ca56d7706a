#!/usr/bin/env bash
# Submits a plan's Monte Carlo as a Slurm job array of SHARDS tasks and the
# merge that waits for them; prints the two job ids.
#
#   scripts/slurm/submit.sh PLAN REPLICATIONS SHARDS WORKDIR OUT [cutover plan options...]
#
# Extra sbatch options (partition, account, time limit) go in
# SBATCH_OPTIONS, e.g. SBATCH_OPTIONS="--partition=batch --time=1:00:00".
set -euo pipefail

if [ "$#" -lt 5 ]; then
  echo "usage: $0 PLAN REPLICATIONS SHARDS WORKDIR OUT [cutover plan options...]" >&2
  exit 2
fi
plan=$1 replications=$2 shards=$3 workdir=$4 out=$5
shift 5
here="$(cd "$(dirname "$0")" && pwd)"

# shellcheck disable=SC2086 # SBATCH_OPTIONS is a list of options
array=$(sbatch --parsable ${SBATCH_OPTIONS:-} --array="0-$((shards - 1))" \
  "$here/replicate.sbatch" "$plan" "$replications" "$workdir" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_OPTIONS:-} --dependency="afterok:$array" \
  "$here/merge.sbatch" "$workdir" "$out")
merge=${merge%%;*}
echo "array job $array ($shards tasks), merge job $merge"
