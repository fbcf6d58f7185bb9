#!/usr/bin/env bash
# The throughput benchmark in one go (docs/benchmarks.md): the Kestrel echo baseline, one node on SQLite and a
# 3-node cluster on PostgreSQL under the same `kms load` settings (full windows: 1,000,000 machines), printed as
# tables of activations/s and p99 with the ratio of each to the baseline and to one node, in the open loop at half
# the D=16 rate (the echo also at the node's half rate), and with a connection per request (as KMS clients
# connect); one node also with grants off (--grant-lease 0) and with a window that never fills (40 machines, every
# contact durable); the targets of issue 12 as met / NOT met (never failing the run); then cost growth with 10k,
# 100k and 1M machines. About 7-8 minutes with the defaults.
#   bench/run.sh [--seconds 15] [--warmup 10] [--skip-grants-off] [--skip-cluster] [--skip-growth] [--skip-signing] [--skip-registry]
# Signing on vs off (issue 13): one node with --allow-unsigned loaded with v1 and with v2, target >= 0.9 x at D=1 and D=16.
# Client registry on vs off (issue 14): two fresh nodes, target >= 0.95 x at D=1 and D=16; page queries on 1,000,000 rows.
# Abuse limits (issue 15), alone: bench/run.sh --abuse [--seconds 5] [--warmup 3] [--abuse-rate 20000]: well-behaved
# load (open loop) beside a connection flood, slow dribblers, a request flood and a garbage sender, one at a time,
# throughput and p99 as ratios to the phase without an attacker, targets >= 0.8 x / <= 2 x. About a minute.
# Failover time and cluster-vs-one-node throughput: dotnet run -c Release --project bench/ClusterBench
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The cluster runs on a private PostgreSQL server started from these binaries.
source tests/postgres-env.sh

dotnet build bench/LoadBench -c Release -v quiet -nologo
exec dotnet bench/LoadBench/bin/Release/net10.0/LoadBench.dll "$@"
