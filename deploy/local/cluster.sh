#!/usr/bin/env bash
# A KmsCluster cluster on this machine, for trying things out: its own PostgreSQL (a throwaway server in a
# temp directory) and N kms-node processes on loopback that form one cluster on it. Ctrl+C stops everything.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/local/cluster.sh [-n N] [-p OFFSET] [-d PORT] [-k] [--db-only] [-h]

Starts a private PostgreSQL server and N kms-node processes on 127.0.0.1 that form one cluster;
waits until Ctrl+C, then stops the nodes (SIGTERM, SIGKILL after 20 s) and the database.

  -n N        number of nodes (default 3; 0 starts only the database)
  -p OFFSET   add OFFSET to every node port (activation 1688+i, admin 8688+i, cluster 4053+i)
  -d PORT     PostgreSQL port (default: a free one from 54320 up)
  -k          keep the temp directory (data, logs) on exit
  --db-only   start only the database, print its connection string (same as -n 0)
  -h          this help

Node i: --listen 127.0.0.1:1688+i --admin 127.0.0.1:8688+i --cluster-port 4053+i, every node a seed;
split brain by the database's lease (the default, right for any size); licensed with the demo host keys of
deploy/demo-licence (evaluation only; at most 6 nodes per key). Logs: <tempdir>/node<i>.log.
EOF
}

nodes=3 offset=0 db_port="" keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -n) nodes=${2:?-n needs a number}; shift 2 ;;
    -p) offset=${2:?-p needs a number}; shift 2 ;;
    -d) db_port=${2:?-d needs a port}; shift 2 ;;
    -k) keep=1; shift ;;
    --db-only) nodes=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "cluster.sh: unknown option $1 (-h for help)" >&2; exit 2 ;;
  esac
done
[[ $nodes =~ ^[0-9]+$ && $offset =~ ^[0-9]+$ && ${db_port:-0} =~ ^[0-9]+$ ]] ||
  { echo "cluster.sh: -n, -p and -d take numbers" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

say() { echo "cluster.sh: $*" >&2; }

# --- PostgreSQL binaries: installed from Debian's packages when missing (same as tests/run.sh) ---
as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root (or sudo) to run: $*"; return 1
  fi
}
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  if [[ $EUID -ne 0 ]] && ! command -v sudo >/dev/null; then
    say "PostgreSQL is not installed and this user cannot install it (not root, no sudo): as root, apt-get install postgresql"
    exit 1
  fi
  say "installing PostgreSQL"
  # Keep the package from creating (and, where services start, starting) a cluster of its own on 5432.
  as_root mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.d/kmscluster-tests.conf >/dev/null
  apt_log=$(mktemp)
  if ! { as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends postgresql; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2; say "installing PostgreSQL failed (output above)"; exit 1
  fi
  rm -f "$apt_log"
fi
pg_bin=$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# initdb refuses to run as root: as root, the server runs as a non-root OS user.
pg_user=""
if [[ $EUID -eq 0 ]]; then
  if id -u postgres >/dev/null 2>&1; then
    pg_user=postgres
  else
    id -u kms-test >/dev/null 2>&1 ||
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin kms-test
    pg_user=kms-test
  fi
fi
as_pg() { if [[ -n $pg_user ]]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }

# --- cleanup, armed before anything is started ---
dir=$(mktemp -d /tmp/kms-cluster-XXXXXX)
pids=()
pg_started=0
any_alive() {
  local pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
cleanup() {
  local status=$?
  # Finish cleaning up even when the terminal or a pipe we print to (| tee) went away with the Ctrl+C.
  set +e
  trap '' INT TERM HUP PIPE
  trap - EXIT
  if [[ ${#pids[@]} -gt 0 ]]; then
    say "stopping ${#pids[@]} node(s)"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    # A frozen node (kill -STOP) keeps SIGTERM pending until it runs again.
    kill -CONT "${pids[@]}" 2>/dev/null || true
    # Graceful first: a node answers what it has read and leaves the cluster; SIGKILL after 20 s.
    for _ in $(seq 1 200); do
      any_alive || break
      sleep 0.1
    done
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null && { say "node $pid did not stop in 20 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
    done
    wait 2>/dev/null || true
  fi
  if [[ $pg_started -eq 1 ]]; then
    say "stopping PostgreSQL"
    (cd "$dir" && as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null) || say "pg_ctl stop failed"
  fi
  if [[ $keep -eq 1 ]]; then say "kept $dir"; else rm -rf "$dir"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- PostgreSQL ---
mkdir -p "$dir/pg"
if [[ -n $pg_user ]]; then
  chmod 711 "$dir" # the server's user must reach $dir/pg, nothing more
  chown "$pg_user:" "$dir/pg"
fi
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [[ -z $db_port ]]; then
  db_port=54320
  while port_in_use "$db_port"; do db_port=$((db_port + 1)); done
fi
(cd "$dir/pg" && as_pg "$pg_bin/initdb" -D "$dir/pg/data" -U kms -A trust -E UTF8 --locale=C --no-sync >"$dir/pg/initdb.log" 2>&1) ||
  { cat "$dir/pg/initdb.log" >&2; say "initdb failed"; exit 1; }
if ! (cd "$dir/pg" && as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w -t 60 \
    -o "-p $db_port -k $dir/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null); then
  tail -n 20 "$dir/pg/log" >&2 || true
  say "PostgreSQL did not start on port $db_port (log above)"
  exit 1
fi
pg_started=1
"$pg_bin/createdb" -h 127.0.0.1 -p "$db_port" -U kms kms
db="Host=127.0.0.1;Port=$db_port;Username=kms;Database=kms"

if [[ $nodes -eq 0 ]]; then
  echo
  echo "PostgreSQL $(basename "$(dirname "$pg_bin")") on 127.0.0.1:$db_port (data in $dir/pg)"
  echo "  --db \"$db\""
  echo "  psql: $pg_bin/psql -h 127.0.0.1 -p $db_port -U kms kms"
  echo
  echo "Ctrl+C stops it."
  while :; do sleep 1; done
fi

# --- kms-node ---
say "building src/Node (Release)"
build_log="$dir/build.log"
dotnet build "$repo/src/Node" -c Release -nologo -v q >"$build_log" 2>&1 ||
  { cat "$build_log" >&2; say "build failed"; exit 1; }
node_dll=$(dotnet msbuild "$repo/src/Node" -nologo -getProperty:TargetPath -p:Configuration=Release)
[[ -f $node_dll ]] || { say "no kms-node.dll at '$node_dll' after the build"; exit 1; }

# Every node a seed: a first seed restarted while the other seeds are down then finds a survivor instead of forming
# a second cluster on the same database (docs/chaos.md).
seeds=()
for ((i = 0; i < nodes; i++)); do seeds+=(--seed "127.0.0.1:$((4053 + offset + i))"); done

# Waits for node i's ready line; fails with its log when the node exits first or takes over 90 s.
wait_ready() {
  local i=$1 pid=$2 log=$3
  for _ in $(seq 1 900); do
    grep -q ' ready: ' "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; say "node$i exited during start-up (log above)"; exit 1; }
    sleep 0.1
  done
  tail -n 20 "$log" >&2; say "node$i was not ready within 90 s"; exit 1
}

# HTTP status of GET /healthz/ready (000 when nothing answers), without curl: the probe needs no admin token.
healthz() {
  local status
  status=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"'; printf "GET /healthz/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3; head -n 1 <&3' 2>/dev/null |
    awk '{print $2}') || true
  echo "${status:-000}"
}

for ((i = 0; i < nodes; i++)); do
  log="$dir/node$i.log"
  # Started one by one: node0, the first seed, forms the cluster; the others join it.
  dotnet "$node_dll" \
    --listen "127.0.0.1:$((1688 + offset + i))" \
    --admin "127.0.0.1:$((8688 + offset + i))" \
    --cluster-port "$((4053 + offset + i))" \
    "${seeds[@]}" \
    --data "$dir/node$i" \
    --name "node$i" \
    --db "$db" \
    --authority-keys "$repo/deploy/demo-licence" \
    --host-key "$repo/deploy/demo-licence/windows-server-2025.hostkey.json" \
    --host-key "$repo/deploy/demo-licence/office-ltsc-2024.hostkey.json" \
    >"$log" 2>&1 &
  pids+=($!)
  wait_ready "$i" "$!" "$log"
done

# Ready means bound; serving means an Up member of the cluster (/healthz/ready 200).
for ((i = 0; i < nodes; i++)); do
  for _ in $(seq 1 120); do
    [[ $(healthz "$((8688 + offset + i))") == 200 ]] && break
    sleep 0.5
  done
  [[ $(healthz "$((8688 + offset + i))") == 200 ]] || say "node$i is up but not serving yet (GET /healthz/ready is not 200); see $dir/node$i.log"
done

echo
printf '%-6s %-8s %-20s %-20s %-20s %s\n' NODE PID ACTIVATION ADMIN CLUSTER LOG
for ((i = 0; i < nodes; i++)); do
  printf '%-6s %-8s %-20s %-20s %-20s %s\n' "node$i" "${pids[$i]}" "127.0.0.1:$((1688 + offset + i))" \
    "127.0.0.1:$((8688 + offset + i))" "127.0.0.1:$((4053 + offset + i))" "$dir/node$i.log"
done
echo
echo "journal:     PostgreSQL on 127.0.0.1:$db_port, --db \"$db\""
echo "split brain: lease-majority (a lease in the database decides which side survives)"
echo
echo "Try:"
echo "  dotnet run --project src/Cli -- activate --server 127.0.0.1:$((1688 + offset))$([[ $nodes -ge 2 ]] && echo " --server 127.0.0.1:$((1689 + offset))") --product windows-11-pro"
echo "  dotnet run --project src/Cli -- cluster --admin 127.0.0.1:$((8688 + offset)) --data $dir/node0"
if [[ $nodes -ge 2 ]]; then
  echo "  kill -STOP ${pids[$((nodes - 1))]}   # freeze node$((nodes - 1)): the others mark it unreachable, then down it"
fi
echo
echo "Ctrl+C stops the nodes and the database."

# Tells once about each node that exits on its own (a downed node exits; see its log).
declare -A gone=()
while :; do
  for ((i = 0; i < nodes; i++)); do
    if [[ -z ${gone[$i]:-} ]] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
      gone[$i]=1
      say "node$i (pid ${pids[$i]}) exited; last lines of $dir/node$i.log:"
      tail -n 5 "$dir/node$i.log" >&2 || true
    fi
  done
  sleep 1
done
