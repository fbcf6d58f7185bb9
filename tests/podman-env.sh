# Sourced by tests/run.sh after tests/postgres-env.sh: makes sure podman (with runc, for machines whose cgroups
# are v1 next to a v2 hierarchy, which crun refuses) and mmdebstrap are there, installing them from Debian's
# packages when missing. The container tests (tests/Deploy.Tests) build the images on a base that
# deploy/container/debian-base.sh makes with mmdebstrap, and run them with podman; no daemon is started here.

# as_root and apt_install come from tests/postgres-env.sh, sourced first.

if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null || ! command -v runc >/dev/null ||
  ! command -v podman-compose >/dev/null; then
  echo "${0##*/}: installing podman, podman-compose and mmdebstrap (the container tests build and run the images with them)" >&2
  apt_install "podman and mmdebstrap" "or leave out tests/Deploy.Tests" \
    podman runc crun mmdebstrap podman-compose uidmap slirp4netns fuse-overlayfs netavark aardvark-dns \
    containernetworking-plugins iptables
fi
