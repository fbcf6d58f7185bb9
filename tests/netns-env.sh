# Sourced by tests/run.sh after tests/postgres-env.sh: makes sure ip (iproute2) and iptables are there, installing
# them from Debian's packages when missing. The partition tests (tests/Cluster.Tests/PartitionTests) put each node
# in a network namespace of its own and cut nodes off from each other with iptables (KmsCluster.Testing.NetworkLab);
# that needs root, as CI runs.

# as_root and apt_install come from tests/postgres-env.sh, sourced first.

if ! command -v ip >/dev/null || ! command -v iptables >/dev/null; then
  echo "${0##*/}: installing iproute2 and iptables (the partition tests run nodes in network namespaces)" >&2
  apt_install "iproute2 and iptables" "or leave out tests/Cluster.Tests/PartitionTests" iproute2 iptables
fi
