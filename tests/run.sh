#!/usr/bin/env bash
# The whole KmsCluster test suite, from a fresh clone: restore, build in Release, run every test project.
# It installs and starts what the tests need when it is missing (nothing beyond the .NET SDK so far:
# SQLite ships inside Microsoft.Data.Sqlite). CI calls exactly this script (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build KmsCluster.sln -c Release
# A hung test fails the run (with a dump of what hung) instead of eating the CI time limit.
dotnet test KmsCluster.sln -c Release --no-build \
  --logger "console;verbosity=normal" \
  --blame-hang-timeout 10m
