#!/usr/bin/env bash
# The whole KmsCluster test suite, from a fresh clone: restore, build in Release, run every test project.
# It installs what the tests need when it is missing: PostgreSQL's binaries (each test fixture starts its own
# private server from them, so no global PostgreSQL is started here), BIND 9, Chromium, podman and mmdebstrap,
# iproute2 and iptables (tests/*-env.sh); SQLite ships inside Microsoft.Data.Sqlite.
# CI calls exactly this script (.ci/run), as root, with no input.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# PostgreSQL binaries for the process-level tests (KmsCluster.Testing.PostgresServer).
source tests/postgres-env.sh
# BIND 9's named for the DNS publishing and discovery tests (KmsCluster.Testing.BindServer).
source tests/bind-env.sh
# A headless Chromium for the dashboard tests (Playwright drives Debian's chromium).
source tests/chromium-env.sh
# podman and mmdebstrap for the container image tests (tests/Deploy.Tests).
source tests/podman-env.sh
# ip and iptables for the partition tests (KmsCluster.Testing.NetworkLab: a network namespace per node).
source tests/netns-env.sh

dotnet build KmsCluster.sln -c Release

# Every test project but the cluster and container tests, in one run (projects in parallel, as for the whole solution).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
projects=$(dotnet sln KmsCluster.sln list | grep -E '^tests/.*\.csproj$' | grep -Ev '^tests/(Cluster|Deploy)\.Tests/' |
  sed 's/.*/"&"/' | paste -sd, -)
printf '{"solution":{"path":"%s/KmsCluster.sln","projects":[%s]}}\n' "$repo" "$projects" >"$tmp/others.slnf"

# A hung test fails the run (with a dump of what hung) instead of eating the CI time limit.
test_args=(-c Release --no-build --logger "console;verbosity=normal" --blame-hang-timeout 10m)
status=0
# A test that leaves a node (or authority) process of this checkout running has a disposal bug, and the process would
# eat the cores of every test after it: fail the run, name the processes and stop them.
leaked_processes() {
  local left
  left=$(pgrep -af -- "$repo/.*(kms-node|kms-authority)\.dll" || true)
  [ -z "$left" ] && return 0
  echo "error: test processes left running after $1:" >&2
  echo "$left" >&2
  pkill -9 -f -- "$repo/.*(kms-node|kms-authority)\.dll" || true
  return 1
}
dotnet test "$tmp/others.slnf" "${test_args[@]}" || status=1
leaked_processes "the test projects" || status=1
# The process-level cluster tests last and alone: their failure detectors are timing-sensitive and must not
# share the two cores with other test assemblies. They run even when the others failed, for the full picture.
dotnet test tests/Cluster.Tests/KmsCluster.Cluster.Tests.csproj "${test_args[@]}" || status=1
leaked_processes "the cluster tests" || status=1
# The container tests run a 3-node cluster in containers: alone too, for the same reason (a fresh-clone run had a
# container node downed by the others' failure detector while every other test assembly shared the cores).
dotnet test tests/Deploy.Tests/KmsCluster.Deploy.Tests.csproj "${test_args[@]}" || status=1
# A short fuzz run of every input parser (docs/fuzzing.md): 15 s each under AFL++, after the tests so that it
# shares the cores with nothing; a crash or hang fails the suite (fuzz/run.sh installs afl++ when it is missing).
FUZZ_WORK="$tmp/fuzz" fuzz/run.sh all 15 || status=1
exit "$status"
