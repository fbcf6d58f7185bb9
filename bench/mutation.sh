#!/usr/bin/env bash
# Mutation testing of one project with Stryker.NET, mutating only the files named (all of the project when none):
#   bench/mutation.sh PROJECT [FILES...] [-- STRYKER-OPTIONS...]
#   bench/mutation.sh src/Protocol Licensing/HostKeyCheck.cs Catalog/KeyGroup.cs
#   MUTATION_TIME_LIMIT=40m bench/mutation.sh src/Actors -- --config-file ../../bench/stryker-actors.json --verbosity debug
# PROJECT is a source project directory (src/Protocol, src/Client, src/Domain); its tests are those of
# tests/<Name>.Tests, the project's own. FILES are paths inside PROJECT (globs allowed). Installs dotnet-stryker
# into .tools/ when missing. Always one test session at a time (--concurrency 1): the machine is shared.
# Thresholds: high 90 (the target for code that decides what is genuine), low 85 (the whole-project target),
# break 0 (a report, never a failed run). Prints where the JSON and HTML reports are. See docs/mutation.md.
# Options after -- go to Stryker as they are (--test-case-filter, --verbosity, --config-file FILE, relative to
# tests/<Name>.Tests, for what only a config file sets, such as additional-timeout). With
# MUTATION_TIME_LIMIT (a timeout(1) duration) the run is stopped at that limit: Stryker writes its reports only at
# the end, so a stopped run has none, and its log (with --verbosity debug, one line per mutant tested) is what remains.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stryker_version=5.1.0

[[ $# -ge 1 ]] || { echo "usage: bench/mutation.sh PROJECT [FILES...] [-- STRYKER-OPTIONS...]   (e.g. bench/mutation.sh src/Protocol Licensing/HostKey.cs)" >&2; exit 4; }
project_dir=${1%/}; shift
files=()
while [[ $# -gt 0 && $1 != -- ]]; do files+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
extra=("$@")
[[ -d $project_dir ]] || { echo "bench/mutation.sh: no project directory $project_dir" >&2; exit 4; }
project=$(ls "$project_dir"/*.csproj 2>/dev/null | head -1)
[[ -n $project ]] || { echo "bench/mutation.sh: $project_dir holds no .csproj" >&2; exit 4; }
name=${project_dir##*/}
tests_dir=tests/$name.Tests
[[ -d $tests_dir ]] || { echo "bench/mutation.sh: $project_dir has no test project $tests_dir" >&2; exit 4; }
for file in "${files[@]}"; do
  compgen -G "$project_dir/$file" >/dev/null || { echo "bench/mutation.sh: no file $project_dir/$file" >&2; exit 4; }
done

stryker=$root/.tools/dotnet-stryker
if [[ ! -x $stryker ]]; then
  echo "installing dotnet-stryker $stryker_version into .tools/"
  dotnet tool install --tool-path "$root/.tools" dotnet-stryker --version "$stryker_version" >/dev/null
fi

# Some test projects start PostgreSQL servers of their own; the Protocol and Client tests do not, but the
# variables cost nothing.
[[ -f tests/postgres-env.sh ]] && source tests/postgres-env.sh >/dev/null

mutate=()
for file in "${files[@]}"; do mutate+=(--mutate "**/$file"); done
output=$root/StrykerOutput/$name-$(date -u +%Y%m%dT%H%M%SZ)
args=(--project "$(basename "$project")" --concurrency 1 --threshold-high 90 --threshold-low 85 --break-at 0
  --reporter json --reporter html --reporter progress --reporter cleartext --output "$output" "${mutate[@]}" "${extra[@]}")

echo "stryker ${args[*]}   (in $tests_dir)"
start=$(date +%s)
limit=()
[[ -n ${MUTATION_TIME_LIMIT:-} ]] && limit=(timeout "$MUTATION_TIME_LIMIT") # signals its whole process group: Stryker, vstest and the test hosts
status=0
(cd "$tests_dir" && "${limit[@]}" "$stryker" "${args[@]}") || status=$?
echo "took $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
if [[ $status -eq 124 ]]; then
  echo "stopped at the time limit of $MUTATION_TIME_LIMIT: no report"
  exit 124
elif [[ $status -ne 0 ]]; then
  echo "stryker ended with status $status: no report" >&2
  exit "$status"
fi
echo "reports: $output/reports/mutation-report.json and mutation-report.html"
exit "$status"
