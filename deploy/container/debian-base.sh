#!/usr/bin/env bash
# Makes a runtime base image for the Containerfiles without any container registry: a minimal Debian
# (mmdebstrap from Debian's packages, with what .NET needs: ICU, OpenSSL, zlib, CA certificates, time zones) and
# the ASP.NET Core and .NET runtimes copied in from an installed .NET (DOTNET_ROOT, default /usr/share/dotnet or
# the directory of `dotnet` on PATH), imported into podman as IMAGE. Use it where mcr.microsoft.com cannot
# be reached:
#   deploy/container/debian-base.sh localhost/kmscluster-base:bookworm
#   podman build --format docker --build-arg BASE=localhost/kmscluster-base:bookworm --target prepublished ...
# Needs root (or sudo) for mmdebstrap's chroot, mmdebstrap and podman.
set -euo pipefail
image=${1:?usage: deploy/container/debian-base.sh IMAGE [SUITE] [MIRROR]}
suite=${2:-bookworm}
mirror=${3:-http://deb.debian.org/debian}

dotnet_root=${DOTNET_ROOT:-}
if [[ -z $dotnet_root ]]; then
  if [[ -x /usr/share/dotnet/dotnet ]]; then dotnet_root=/usr/share/dotnet
  else dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  fi
fi
compgen -G "$dotnet_root/shared/Microsoft.AspNetCore.App/10.*" >/dev/null ||
  { echo "debian-base.sh: no ASP.NET Core 10 runtime under $dotnet_root/shared (set DOTNET_ROOT)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Only the host and the shared runtimes: no SDK in a runtime image.
mmdebstrap --quiet --variant=minbase \
  --include=ca-certificates,libicu72,libssl3,zlib1g,libstdc++6,tzdata \
  --customize-hook="mkdir -p \"\$1/usr/share/dotnet\" && cp -a '$dotnet_root/dotnet' '$dotnet_root/host' '$dotnet_root/shared' \"\$1/usr/share/dotnet/\" && ln -sf /usr/share/dotnet/dotnet \"\$1/usr/bin/dotnet\"" \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  "$suite" "$work/base.tar" "$mirror"
podman import --change 'ENV DOTNET_ROOT=/usr/share/dotnet' --change 'CMD ["/bin/bash"]' \
  --message "Debian $suite (mmdebstrap) with the .NET runtimes of $dotnet_root" "$work/base.tar" "$image" >/dev/null
echo "$image"
