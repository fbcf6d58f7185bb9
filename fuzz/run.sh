#!/usr/bin/env bash
# Fuzzes KmsCluster's input parsers with AFL++ (Debian's afl++) and SharpFuzz (docs/fuzzing.md).
#   fuzz/run.sh TARGET|all SECONDS     fresh run(s) from the seed corpus, each target SECONDS long, one after another
#   FUZZ_RESUME=1 fuzz/run.sh TARGET SECONDS   continue the target's last run (its queue and counters) in FUZZ_WORK
#   FUZZ_EXECS=N fuzz/run.sh TARGET SECONDS    stop at about N inputs, or after SECONDS, whichever comes first
#   FUZZ_REUSE_BUILD=1 ...                     use the instrumented build already in FUZZ_WORK (no rebuild)
# Targets: frame-reader request-decoder host-key catalogue serializer. Exits 1 when any run saved a crash or a hang
# (each is replayed, uninstrumented, to print its exception), 0 otherwise. Installs afl++ and the sharpfuzz tool
# when they are missing. Work files (build, findings): FUZZ_WORK, default fuzz/.work.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
all_targets=(frame-reader request-decoder host-key catalogue serializer)

if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ ]]; then
  echo "usage: fuzz/run.sh TARGET|all SECONDS   (targets: ${all_targets[*]})" >&2
  exit 2
fi
if [[ $1 == all ]]; then targets=("${all_targets[@]}"); else targets=("$1"); fi
seconds=$2
work=${FUZZ_WORK:-$repo/fuzz/.work}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v afl-fuzz >/dev/null; then
  echo "fuzz: installing afl++ (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
fi
dotnet tool restore >/dev/null

# A fresh build unless told to reuse one: SharpFuzz rewrites the assemblies in place, so an incremental build
# over an instrumented folder would mix instrumented and plain assemblies.
bin=$work/bin
replay=$work/replay
if [[ ${FUZZ_REUSE_BUILD:-0} != 1 || ! -f $bin/KmsCluster.Fuzz.dll ]]; then
  rm -rf "$bin"
  mkdir -p "$work"
  dotnet build fuzz/KmsCluster.Fuzz/KmsCluster.Fuzz.csproj -c Release -o "$bin" -v quiet -nologo >"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; exit 1; }
  # An uninstrumented copy, to replay findings with plain output; then instrument the code under test, and the
  # protobuf runtime whose parser the serializer's input goes through first.
  rm -rf "$replay"
  cp -r "$bin" "$replay"
  for assembly in KmsCluster.Protocol KmsCluster.Domain KmsCluster.Actors Google.Protobuf; do
    dotnet tool run sharpfuzz "$bin/$assembly.dll" >/dev/null
  done
fi

# afl-fuzz runs `dotnet`, which has no AFL instrumentation of its own (SKIP_BIN_CHECK); SharpFuzz reports coverage
# through AFL's shared memory. The machine is shared: no CPU pinning, no CPU governor check, no UI.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
status=0
for target in "${targets[@]}"; do
  findings=$work/findings/$target
  if [[ ${FUZZ_RESUME:-0} == 1 && -d $findings/default/queue ]]; then
    input=-
  else
    rm -rf "$findings"
    input=$repo/fuzz/corpus/$target
  fi
  mkdir -p "$findings"
  # -t: per-input timeout in ms (far above the microseconds an input takes, even on a loaded machine: a hit is a
  # real hang; AFL waits 10 times as long for the runtime to start);
  # -V: stop after SECONDS; -m none: the .NET runtime reserves far more address space than AFL's default limit.
  echo "fuzz: $target for ${seconds}s (findings in $findings)"
  limits=(-V "$seconds")
  [[ -n ${FUZZ_EXECS:-} ]] && limits+=(-E "$FUZZ_EXECS")
  # The JSON targets get their documents' tokens (fuzz/dictionaries): AFL rarely spells "hostableOn" by chance.
  dictionary=$repo/fuzz/dictionaries/$target.dict
  [[ -f $dictionary ]] && limits+=(-x "$dictionary")
  afl-fuzz -i "$input" -o "$findings" -t 5000 -m none "${limits[@]}" -- dotnet "$bin/KmsCluster.Fuzz.dll" run "$target" \
    >"$findings/afl.log" 2>&1 || { tail -30 "$findings/afl.log"; status=1; continue; }
  stats=$findings/default/fuzzer_stats
  field() { sed -n "s/^$1 *: //p" "$stats"; }
  crashes=$(field saved_crashes) hangs=$(field saved_hangs)
  echo "fuzz: $target: $(field execs_done) inputs in $(field run_time) s ($(field execs_per_sec) exec/s), corpus $(field corpus_count), crashes $crashes, hangs $hangs"
  for kind in crashes hangs; do
    found=("$findings"/default/$kind/id:*)
    if [[ -e ${found[0]} ]]; then
      status=1
      echo "fuzz: $target: $kind saved in $findings/default/$kind; replayed:"
      timeout 60 dotnet "$replay/KmsCluster.Fuzz.dll" replay "$target" "${found[@]}" || true
    fi
  done
done
exit "$status"
