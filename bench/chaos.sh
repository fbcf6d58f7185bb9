#!/usr/bin/env bash
# The chaos soak (docs/chaos.md): bench/chaos.sh [--seed N] [--minutes M] [--workers W] [--out DIR] [--no-partitions] [--every-node-a-seed]
# A 3-node cluster on a private PostgreSQL server under fleet load and a seeded fault schedule, then the history
# checker. Exit code 1 when an invariant was violated.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/postgres-env.sh
dotnet build bench/Chaos/KmsCluster.Chaos.csproj -c Release
exec dotnet bench/Chaos/bin/Release/net10.0/KmsCluster.Chaos.dll "$@"
