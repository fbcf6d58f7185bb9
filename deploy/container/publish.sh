#!/usr/bin/env bash
# Publishes what the container images hold into DIR, in the layout their `prepublished` targets copy from:
#   DIR/node (kms-node), DIR/cli (kms), DIR/authority (kms-authority), DIR/bin (kms, kms-healthcheck, kms-authority-healthcheck).
# Framework-dependent (the image's .NET runtime runs it), so one output serves every architecture.
# Extra arguments go to every `dotnet publish` (e.g. --no-build after a Release build).
set -euo pipefail
out=${1:?usage: deploy/container/publish.sh DIR [dotnet publish arguments]}
shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/node" "$out/cli" "$out/authority" "$out/bin"
for project in Node:node Cli:cli Authority:authority; do
  dotnet publish "$repo/src/${project%%:*}" -c Release -p:UseAppHost=false -o "$out/${project##*:}" "$@"
done
mkdir -p "$out/bin"
cp "$repo/deploy/container/kms" "$repo/deploy/container/kms-healthcheck" "$repo/deploy/container/kms-authority-healthcheck" "$out/bin/"
chmod 0755 "$out/bin/"*
