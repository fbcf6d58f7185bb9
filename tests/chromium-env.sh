# Sourced by tests/run.sh after tests/postgres-env.sh: makes sure a headless Chromium is there for the dashboard's
# browser tests (installing Debian's chromium package when missing) and exports KMS_TEST_CHROMIUM, the executable
# Playwright drives (Playwright's own browser download needs the internet; Debian's package does not).

# as_root and apt_install come from tests/postgres-env.sh, sourced first.

chromium_path() {
  local candidate
  for candidate in chromium chromium-browser; do
    if command -v "$candidate" >/dev/null; then command -v "$candidate"; return; fi
  done
}

if [[ ! -x ${KMS_TEST_CHROMIUM:-/nonexistent} ]] && [[ -z $(chromium_path) ]]; then
  echo "${0##*/}: installing Chromium (the dashboard tests drive it headless)" >&2
  apt_install Chromium "or set KMS_TEST_CHROMIUM to a Chromium executable" chromium
  [[ -n $(chromium_path) ]] || { echo "${0##*/}: installed chromium but found no executable" >&2; exit 1; }
fi
KMS_TEST_CHROMIUM=${KMS_TEST_CHROMIUM:-$(chromium_path)}
export KMS_TEST_CHROMIUM
