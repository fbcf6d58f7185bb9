#!/usr/bin/env bash
# Mutation testing of one project with Stryker.NET, mutating only the files named (all of the project when none):
#   bench/mutation.sh PROJECT [FILES...]
#   bench/mutation.sh src/Protocol Licensing/HostKeyCheck.cs Catalog/KeyGroup.cs
# PROJECT is a source project directory (src/Protocol, src/Client, src/Domain); its tests are those of
# tests/<Name>.Tests, the project's own. FILES are paths inside PROJECT (globs allowed). Installs dotnet-stryker
# into .tools/ when missing. Always one test session at a time (--concurrency 1): the machine is shared.
# Thresholds: high 90 (the target for code that decides what is genuine), low 85 (the whole-project target),
# break 0 (a report, never a failed run). Prints where the JSON and HTML reports are. See docs/mutation.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stryker_version=5.1.0

[[ $# -ge 1 ]] || { echo "usage: bench/mutation.sh PROJECT [FILES...]   (e.g. bench/mutation.sh src/Protocol Licensing/HostKey.cs)" >&2; exit 4; }
project_dir=${1%/}; shift
[[ -d $project_dir ]] || { echo "bench/mutation.sh: no project directory $project_dir" >&2; exit 4; }
project=$(ls "$project_dir"/*.csproj 2>/dev/null | head -1)
[[ -n $project ]] || { echo "bench/mutation.sh: $project_dir holds no .csproj" >&2; exit 4; }
name=${project_dir##*/}
tests_dir=tests/$name.Tests
[[ -d $tests_dir ]] || { echo "bench/mutation.sh: $project_dir has no test project $tests_dir" >&2; exit 4; }
for file in "$@"; do
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
for file in "$@"; do mutate+=(--mutate "**/$file"); done
output=$root/StrykerOutput/$name-$(date -u +%Y%m%dT%H%M%SZ)
args=(--project "$(basename "$project")" --concurrency 1 --threshold-high 90 --threshold-low 85 --break-at 0
  --reporter json --reporter html --reporter progress --reporter cleartext --output "$output" "${mutate[@]}")

echo "stryker ${args[*]}   (in $tests_dir)"
start=$(date +%s)
(cd "$tests_dir" && "$stryker" "${args[@]}")
echo "took $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
echo "reports: $output/reports/mutation-report.json and mutation-report.html"
