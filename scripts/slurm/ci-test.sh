#!/usr/bin/env bash
# Proves the Slurm scripts on a real one-node cluster: installs Debian's
# slurm-wlm and munge if they are missing, starts munged, slurmctld and
# slurmd on localhost (every file, socket and port of theirs in a fresh
# directory; nothing under /etc is changed), submits a plan's Monte Carlo
# as a job array of 4 tasks with scripts/slurm/submit.sh, waits for the
# dependent merge, and compares the merged output byte for byte with a
# local single-process run. The daemons are stopped when it ends, however
# it ends.
#
#   CUTOVER_BIN=target/release/cutover scripts/slurm/ci-test.sh
#
# Root is needed (to install packages and run the daemons). Environment:
# CUTOVER_BIN (default: target/release/cutover, built if missing),
# SLURM_TEST_PLAN (default scenarios/story/plan-gameday.toml),
# SLURM_TEST_REPLICATIONS (default 8), SLURM_TEST_TIMEOUT (seconds to wait
# for the jobs, default 300).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

plan=${SLURM_TEST_PLAN:-scenarios/story/plan-gameday.toml}
replications=${SLURM_TEST_REPLICATIONS:-8}
timeout=${SLURM_TEST_TIMEOUT:-300}
shards=4
started=$SECONDS

if [ "$(id -u)" != 0 ]; then
  echo "slurm test: root is needed to install and start Slurm" >&2
  exit 1
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
  echo "slurm test: slurm-wlm and munge installed in $((SECONDS - started)) s"
fi

bin=${CUTOVER_BIN:-target/release/cutover}
if [ ! -x "$bin" ]; then
  cargo build --release -q -p cutover
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

work=$(mktemp -d /tmp/cutover-slurm.XXXXXX)
chmod 700 "$work"
mkdir -p "$work"/{munge,state,spool,log,run,shards}

stop_daemons() {
  local status=$? pid pidfile
  for pidfile in "$work/run/slurmd.pid" "$work/run/slurmctld.pid" "$work/munge/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    # Wait (up to 10 s) until it has written its last state and exited.
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  done
  if [ "$status" != 0 ]; then
    echo "slurm test FAILED; the cluster's logs and the jobs' output follow" >&2
    for f in "$work"/log/* "$work"/*.out; do
      [ -f "$f" ] || continue
      echo "----- $f" >&2
      tail -n 40 "$f" >&2
    done
    echo "(kept in $work)" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap stop_daemons EXIT

# munge: its own key, socket, pid, seed and log files. Run as root it
# needs --force.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
munged --force --key-file="$work/munge/munge.key" --socket="$socket" \
  --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munged.seed" \
  --log-file="$work/log/munged.log" 2>>"$work/log/munged.stderr"
munge --socket="$socket" -n | unmunge --socket="$socket" >/dev/null

# A minimal slurm.conf: one node (this machine, on 127.0.0.1), one
# partition, no cgroups, ports away from the defaults.
host=$(hostname)
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=cutover-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SlurmUser=root
SlurmdUser=root
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=kill_invalid_depend
MinJobAge=3600
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -c
slurmd
# The node takes a few seconds to register.
for _ in $(seq 1 60); do
  if sinfo -h -o '%t' 2>/dev/null | grep -qx 'idle'; then break; fi
  sleep 0.5
done
sinfo -h -o '%t' | grep -qx 'idle' || {
  echo "slurm test: the node did not come up" >&2
  sinfo >&2 || true
  exit 1
}
echo "slurm test: cluster up in $((SECONDS - started)) s"

# The array and its merge, as a user would submit them.
cd "$work"
ids=$(CUTOVER="$bin" "$repo/scripts/slurm/submit.sh" "$repo/$plan" "$replications" "$shards" \
  "$work/shards" "$work/merged")
echo "slurm test: $ids"
merge_id=${ids##* }

deadline=$((SECONDS + timeout))
state=
while [ "$SECONDS" -lt "$deadline" ]; do
  state=$(scontrol show job "$merge_id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case "$state" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;;
  esac
  sleep 1
done
if [ "$state" != COMPLETED ]; then
  echo "slurm test: the merge job ended $state (waited up to $timeout s)" >&2
  squeue >&2 || true
  scontrol show job "$merge_id" >&2 || true
  exit 1
fi
echo "slurm test: array and merge done in $((SECONDS - started)) s"

# The same Monte Carlo in one process.
"$bin" plan "$repo/$plan" --replications "$replications" --out "$work/local" >/dev/null
compared=0
for f in "$work"/local/*; do
  name=$(basename "$f")
  [ "$name" = run-info.json ] && continue
  cmp "$f" "$work/merged/$name"
  compared=$((compared + 1))
done
extra=$(comm -13 <(ls "$work/local") <(ls "$work/merged"))
if [ -n "$extra" ]; then
  echo "slurm test: the merge wrote files the local run did not: $extra" >&2
  exit 1
fi
echo "slurm test: 4-task array + merge = local run, $compared files byte for byte ($((SECONDS - started)) s in all)"
