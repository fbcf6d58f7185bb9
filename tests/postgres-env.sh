# Sourced by tests/run.sh and bench/run.sh: makes sure PostgreSQL's binaries are there (installing them from
# Debian's packages when missing; each test fixture and benchmark starts private servers from them, so no
# global PostgreSQL is started here) and exports KMS_TEST_PG_BIN, and as root KMS_TEST_PG_OSUSER.

# Runs a command as root: directly when we are root, through sudo when it exists.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "${0##*/}: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

# Installs Debian's PACKAGES for WHAT (words for the messages), or stops the run saying how to do it by hand
# (HINT: the alternative). The tests/*-env.sh scripts use it for what they need.
apt_install() {
  local what=$1 hint=$2 apt_log
  shift 2
  if [[ $EUID -ne 0 ]] && ! command -v sudo >/dev/null; then
    echo "${0##*/}: $what is not installed and this user cannot install it (not root, no sudo):" >&2
    echo "  as root: apt-get install $*   ($hint)" >&2
    exit 1
  fi
  apt_log=$(mktemp)
  if ! { as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "$@"; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    echo "${0##*/}: installing $what failed (output above)" >&2
    exit 1
  fi
  rm -f "$apt_log"
}

pg_bin() { printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

# PostgreSQL binaries for the process-level tests (KmsCluster.Testing.PostgresServer).
# Installed from Debian's packages unless there are some already (or KMS_TEST_PG_BIN names others).
if [[ ! -x ${KMS_TEST_PG_BIN:-/nonexistent}/initdb ]] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  echo "${0##*/}: installing PostgreSQL (the tests start private servers from its binaries)" >&2
  # Keep the package from creating (and, where services start, starting) a cluster of its own on 5432.
  as_root mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.d/kmscluster-tests.conf >/dev/null
  apt_install PostgreSQL "or set KMS_TEST_PG_BIN to a PostgreSQL bin directory" postgresql
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null ||
    { echo "${0##*/}: installed postgresql but found no /usr/lib/postgresql/*/bin/initdb" >&2; exit 1; }
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
