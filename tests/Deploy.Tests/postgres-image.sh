#!/usr/bin/env bash
# A PostgreSQL image for the compose test, made from Debian's packages (mmdebstrap), since the compose file's
# docker.io/library/postgres cannot be pulled here. It takes the same POSTGRES_DB, POSTGRES_USER and
# POSTGRES_PASSWORD variables and data directory as the official image, which is all compose.yaml uses.
set -euo pipefail
image=${1:?usage: postgres-image.sh IMAGE}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mmdebstrap --quiet --variant=minbase --include=postgresql,util-linux \
  --essential-hook='mkdir -p "$1/etc/postgresql-common/createcluster.d" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.d/no-main.conf"' \
  --customize-hook="cp '$here/postgres-entrypoint' \"\$1/usr/local/bin/postgres-entrypoint\" && chmod 0755 \"\$1/usr/local/bin/postgres-entrypoint\"" \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  bookworm "$work/postgres.tar" http://deb.debian.org/debian
podman import --change 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]' --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'STOPSIGNAL SIGINT' --message "PostgreSQL from Debian bookworm (mmdebstrap), for the compose test" \
  "$work/postgres.tar" "$image" >/dev/null
