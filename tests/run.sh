#!/usr/bin/env bash
# The whole KmsCluster test suite, from a fresh clone: restore, build in Release, run every test project.
# It installs what the tests need when it is missing: PostgreSQL's binaries (each test fixture starts its own
# private server from them, so no global PostgreSQL is started here); SQLite ships inside Microsoft.Data.Sqlite.
# CI calls exactly this script (.ci/run), as root, with no input.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Runs a command as root: directly when we are root, through sudo when it exists.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "tests/run.sh: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

pg_bin() { printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

# PostgreSQL binaries for the process-level tests (KmsCluster.Testing.PostgresServer).
# Installed from Debian's packages unless there are some already (or KMS_TEST_PG_BIN names others).
if [[ ! -x ${KMS_TEST_PG_BIN:-/nonexistent}/initdb ]] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  if [[ $EUID -ne 0 ]] && ! command -v sudo >/dev/null; then
    echo "tests/run.sh: PostgreSQL is not installed and this user cannot install it (not root, no sudo):" >&2
    echo "  as root: apt-get install postgresql   (or set KMS_TEST_PG_BIN to a PostgreSQL bin directory)" >&2
    exit 1
  fi
  echo "tests/run.sh: installing PostgreSQL (the tests start private servers from its binaries)" >&2
  # Keep the package from creating (and, where services start, starting) a cluster of its own on 5432.
  as_root mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.d/kmscluster-tests.conf >/dev/null
  apt_log=$(mktemp)
  if ! { as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends postgresql; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    echo "tests/run.sh: installing PostgreSQL failed (output above)" >&2
    exit 1
  fi
  rm -f "$apt_log"
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null ||
    { echo "tests/run.sh: installed postgresql but found no /usr/lib/postgresql/*/bin/initdb" >&2; exit 1; }
fi
KMS_TEST_PG_BIN=${KMS_TEST_PG_BIN:-$(pg_bin)}
export KMS_TEST_PG_BIN

# initdb refuses to run as root: as root, the test servers run as a non-root OS user.
if [[ $EUID -eq 0 ]]; then
  if [[ -z ${KMS_TEST_PG_OSUSER:-} ]]; then
    if id -u postgres >/dev/null 2>&1; then
      KMS_TEST_PG_OSUSER=postgres
    else
      id -u kms-test >/dev/null 2>&1 ||
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin kms-test
      KMS_TEST_PG_OSUSER=kms-test
    fi
  fi
  export KMS_TEST_PG_OSUSER
fi

dotnet build KmsCluster.sln -c Release

# Every test project but the cluster tests, in one run (projects in parallel, as for the whole solution).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
projects=$(dotnet sln KmsCluster.sln list | grep -E '^tests/.*\.csproj$' | grep -v '^tests/Cluster\.Tests/' |
  sed 's/.*/"&"/' | paste -sd, -)
printf '{"solution":{"path":"%s/KmsCluster.sln","projects":[%s]}}\n' "$repo" "$projects" >"$tmp/others.slnf"

# A hung test fails the run (with a dump of what hung) instead of eating the CI time limit.
test_args=(-c Release --no-build --logger "console;verbosity=normal" --blame-hang-timeout 10m)
status=0
dotnet test "$tmp/others.slnf" "${test_args[@]}" || status=1
# The process-level cluster tests last and alone: their failure detectors are timing-sensitive and must not
# share the two cores with other test assemblies. They run even when the others failed, for the full picture.
dotnet test tests/Cluster.Tests/KmsCluster.Cluster.Tests.csproj "${test_args[@]}" || status=1
exit "$status"
