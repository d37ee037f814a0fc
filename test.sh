#!/usr/bin/env bash
# Runs every test against a throwaway PostgreSQL, then every benchmark once (BenchmarkDotNet Dry job).
# Last line: "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGROOT=${PGROOT:-/tmp/recsys-test-pg-$$}
PGPORT=${PGPORT:-55433}
results="$root/TestResults"
rm -rf "$results"; mkdir -p "$results"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_prerequisites() {
  local need=()
  [ -x "$PGBIN/initdb" ] || need+=(postgresql-15)
  /usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
  # The web console's tests drive Debian's Chromium headless (nothing is downloaded at run time).
  [ -x /usr/bin/chromium ] || need+=(chromium)
  /usr/bin/python3 -c 'import scipy' 2>/dev/null || need+=(python3-scipy)
  if [ ${#need[@]} -gt 0 ]; then
    echo "test.sh: installing ${need[*]} (apt-get)"
    as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

pg_start() {
  id -u postgres >/dev/null 2>&1 || as_root useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  rm -rf "$PGROOT"; mkdir -p "$PGROOT"; as_root chown postgres: "$PGROOT"; chmod 700 "$PGROOT"
  local as_pg=(as_root runuser -u postgres --)
  "${as_pg[@]}" "$PGBIN/initdb" -D "$PGROOT/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$PGROOT/initdb.log" 2>&1 || { cat "$PGROOT/initdb.log"; return 1; }
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 60 \
    -o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGROOT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
}

pg_stop() {
  if [ -f "$PGROOT/data/postmaster.pid" ]; then
    as_root runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGROOT/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PGROOT"
}

trap pg_stop EXIT
install_prerequisites || { echo "test.sh: could not install prerequisites"; echo "0 passed, 1 failed"; exit 1; }
pg_start || { echo "test.sh: PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
export RECSYS_TEST_DB="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=postgres"
# The restart tests run a PostgreSQL of their own from the same binaries.
export RECSYS_TEST_PGBIN="$PGBIN"
echo "test.sh: PostgreSQL up on 127.0.0.1:$PGPORT"

passed=0; failed=0

# 1. Unit, integration and CLI tests.
dotnet test "$root/tests/RecSys.Tests/RecSys.Tests.csproj" -c Release \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=minimal" --results-directory "$results"
test_rc=$?
trx="$results/tests.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  [ "$test_rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
else
  echo "test.sh: no test results (build failed?)"; failed=$((failed + 1))
fi

# 2. Reruns under other runtime settings: the SIMD kernel tests without AVX-512 (the Vector256
#    paths), preferring 128-bit vectors (TensorPrimitives' Vector128 paths) and without any hardware
#    intrinsics (the scalar fallbacks), so every path is exercised
#    on every machine; the server tests with inline socket completions, as `recsys serve` runs.
for rerun in "DOTNET_EnableAVX512F=0|Category=Simd" "DOTNET_PreferredVectorBitWidth=128|Category=Simd" "DOTNET_EnableHWIntrinsic=0|Category=Simd" \
             "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1|FullyQualifiedName~RecSys.Tests.Server"; do
  variant=${rerun%%|*}; filter=${rerun#*|}
  name=$(echo "$variant" | tr '=' '-')
  env "$variant" dotnet test "$root/tests/RecSys.Tests/RecSys.Tests.csproj" -c Release --no-build --filter "$filter" \
    --logger "trx;LogFileName=rerun-$name.trx" --results-directory "$results" >"$results/rerun-$name.log" 2>&1
  rc=$?
  counters=$(grep -o '<Counters [^>]*>' "$results/rerun-$name.trx" 2>/dev/null | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  echo "test.sh: $filter with $variant: ${p:-0} passed, ${f:-0} failed"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "${f:-0}" -gt 0 ]; then grep -A25 -E '^ +Failed ' "$results/rerun-$name.log" | head -120; fi
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then failed=$((failed + 1)); tail -30 "$results/rerun-$name.log"; fi
done

# 3. Every benchmark once, in-process, so none rots.
export RECSYS_BENCH_DB="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=postgres"
if dotnet run -c Release --project "$root/bench/RecSys.Bench" -- --filter '*' --job Dry --inProcess \
     --artifacts "$results/bench" >"$results/bench-dry.log" 2>&1 \
   && grep -q "// \* Summary \*" "$results/bench-dry.log" \
   && ! grep -qE "Benchmarks with issues|Exception|\| +NA \| +NA \| +NA \|" "$results/bench-dry.log"; then
  echo "test.sh: benchmarks (Dry job) ran clean"
  passed=$((passed + 1))
else
  echo "test.sh: benchmark dry run failed; log follows"; tail -60 "$results/bench-dry.log"
  failed=$((failed + 1))
fi

# 3b. The regression run's own check (docs/benchmarks.md): its statistics on samples with known
#     shifts, and one tiny A/A of this build against itself through real processes.
if dotnet "$root/bench/RecSys.Bench/bin/Release/net10.0/RecSys.Bench.dll" regress --self-test >"$results/regress-self-test.log" 2>&1; then
  echo "test.sh: regress self-test passed"
  passed=$((passed + 1))
else
  echo "test.sh: regress self-test failed; log follows"; tail -30 "$results/regress-self-test.log"
  failed=$((failed + 1))
fi

# 4. The self-contained GPU bundle (docs/gpu.md), built and smoke-run: without a CUDA device its check
#    must exit 2 with the reason in its JSON; with one, 0.
bundle="$results/gpu-bundle"
rm -rf "$bundle"
if [ "$(uname -m)" != "x86_64" ]; then
  echo "test.sh: GPU bundle skipped: it is built for linux-x64 and this host is $(uname -m)"
elif dotnet publish "$root/bench/RecSys.Bench" -c Release -r linux-x64 --self-contained true -p:InvariantGlobalization=true \
     -o "$bundle/app" >"$results/gpu-bundle.log" 2>&1; then
  "$bundle/app/RecSys.Bench" gpu-check --out "$bundle/out" --shapes ml20m --factors 8 --iterations 1 --topn '' >>"$results/gpu-bundle.log" 2>&1
  rc=$?
  if { [ "$rc" -eq 2 ] && grep -q "no CUDA device" "$bundle/out/gpu-check.json"; } || [ "$rc" -eq 0 ]; then
    echo "test.sh: GPU bundle built and smoke-run (gpu-check exit $rc)"
    passed=$((passed + 1))
  else
    echo "test.sh: GPU bundle smoke run failed (exit $rc); log follows"; tail -30 "$results/gpu-bundle.log"
    failed=$((failed + 1))
  fi
else
  echo "test.sh: GPU bundle did not publish; log follows"; tail -30 "$results/gpu-bundle.log"
  failed=$((failed + 1))
fi
rm -rf "$bundle/app"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
