# Sourced by tests/run.sh after tests/postgres-env.sh: makes sure BIND 9's named is there (installing bind9 and
# bind9-utils from Debian's packages when missing) and exports KMS_TEST_NAMED. The DNS tests start private named
# servers from it on free loopback ports (KmsCluster.Testing.BindServer), so no global named is started here.

# as_root and apt_install come from tests/postgres-env.sh, sourced first.

named_path() {
  if command -v named >/dev/null; then command -v named; elif [[ -x /usr/sbin/named ]]; then echo /usr/sbin/named; fi
}

if [[ ! -x ${KMS_TEST_NAMED:-/nonexistent} ]] && [[ -z $(named_path) ]]; then
  echo "${0##*/}: installing BIND 9 (the DNS tests start private named servers from it)" >&2
  # Keep the package from starting a global named where services start: policy-rc.d 101 = "not now".
  policy=/usr/sbin/policy-rc.d
  added_policy=false
  if [[ ! -e $policy ]] && [[ $EUID -eq 0 || -n $(command -v sudo) ]]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod +x "$policy" && added_policy=true
  fi
  # In a subshell, so the policy goes away again whether the install worked or not.
  installed=true
  (apt_install "BIND 9 (named)" "or set KMS_TEST_NAMED to a named binary" bind9 bind9-utils) || installed=false
  [[ $added_policy == true ]] && as_root rm -f "$policy"
  [[ $installed == true ]] || exit 1
  [[ -n $(named_path) ]] || { echo "${0##*/}: installed bind9 but found no named" >&2; exit 1; }
fi
KMS_TEST_NAMED=${KMS_TEST_NAMED:-$(named_path)}
export KMS_TEST_NAMED
