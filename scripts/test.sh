#!/usr/bin/env bash
# The test command: installs what the tests need when missing, then runs every check.
#
#   1. scripts/install-test-deps.sh   (Debian nginx/rtmp/ffmpeg, .venv with the official SDKs)
#   2. cargo fmt --check
#   3. cargo clippy --all-targets -- -D warnings
#   4. cargo build (the livenotify binary)
#   5. cargo nextest run + cargo test --doc (or plain cargo test without nextest), then
#      cargo test --test api --test pipeline again on PostgreSQL (a fresh database per test;
#      scripts/ensure-postgres.sh starts the local server first when it is down)
#   6. pytest tests/sdk -v, against target/debug/livenotify
#   7. node --test tests/console: the web console in Debian's Chromium (playwright-core)
#
# Every step runs even when an earlier one failed (except that the SDK tests need the build),
# so one run shows everything that is wrong. Exits non-zero when any step failed. The last
# line counts results: each Rust and SDK test, plus fmt, clippy and build as one check each.
# Logs of each step are kept in target/test-logs/.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

banner() { printf '\n==== %s ====\n' "$*"; }

failed_steps=()
gate_passed=0
gate_failed=0
rust_passed=0
rust_failed=0
sdk_passed=0
sdk_failed=0

banner "install test dependencies"
bash scripts/install-test-deps.sh

target_dir=$(cargo metadata --no-deps --format-version 1 2>/dev/null \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null) \
    || target_dir="$repo_root/target"
[ -n "$target_dir" ] || target_dir="$repo_root/target"
logs="$target_dir/test-logs"
mkdir -p "$logs"

# run_step NAME LOGFILE COMMAND...: runs the command, its output shown and kept in LOGFILE.
run_step() {
    local name=$1 log=$2
    shift 2
    banner "$name"
    printf '$ %s\n' "$*"
    if "$@" 2>&1 | tee "$log"; then
        printf -- '---- %s: ok\n' "$name"
        return 0
    fi
    printf -- '---- %s: FAILED\n' "$name"
    failed_steps+=("$name")
    return 1
}

gate() {
    if run_step "$@"; then
        gate_passed=$((gate_passed + 1))
    else
        gate_failed=$((gate_failed + 1))
        return 1
    fi
}

# PostgreSQL on 127.0.0.1:5432 for the PostgreSQL pass and tests/multinode.
run_step "postgresql up" "$logs/postgres-up.log" bash scripts/ensure-postgres.sh || true

gate "cargo fmt --check" "$logs/fmt.log" cargo fmt --check || true
gate "cargo clippy" "$logs/clippy.log" cargo clippy --all-targets -- -D warnings || true

built=0
if gate "cargo build" "$logs/build.log" cargo build --bin livenotify; then
    built=1
fi

# The benchmark tool at its tiny size, so it cannot rot; figures are not checked and
# BENCHMARKS.md is left alone.
run_step "livenotify-bench --scale tiny" "$logs/bench.log" bash -c \
    'cargo build --bins && "$0/debug/livenotify-bench" --scale tiny --no-write --work "$0/bench"' \
    "$target_dir" || true

# ---- Rust tests -----------------------------------------------------------------------------

# Sums "N passed" / "N failed" from cargo test's "test result:" lines or nextest's summary.
count_rust() {
    python3 - "$@" <<'EOF'
import re, sys
passed = failed = 0
for path in sys.argv[1:]:
    try:
        text = open(path, errors="replace").read()
    except FileNotFoundError:
        continue
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    for line in text.splitlines():
        if line.startswith("test result:") or re.match(r"\s*Summary \[", line):
            p = re.search(r"(\d+) passed", line)
            f = re.search(r"(\d+) failed", line)
            passed += int(p.group(1)) if p else 0
            failed += int(f.group(1)) if f else 0
print(passed, failed)
EOF
}

rust_ok=1
if cargo nextest --version >/dev/null 2>&1; then
    run_step "cargo nextest run" "$logs/nextest.log" cargo nextest run --no-fail-fast || rust_ok=0
    run_step "cargo test --doc" "$logs/doctest.log" cargo test --doc --no-fail-fast || rust_ok=0
    counts=$(count_rust "$logs/nextest.log" "$logs/doctest.log") || counts="0 0"
else
    run_step "cargo test" "$logs/cargo-test.log" cargo test --no-fail-fast || rust_ok=0
    counts=$(count_rust "$logs/cargo-test.log") || counts="0 0"
fi
read -r rust_passed rust_failed <<<"$counts"

# The API and pipeline suites again, each test on its own fresh PostgreSQL database.
pg_server=${LIVENOTIFY_TEST_DATABASE:-postgres://postgres@127.0.0.1:5432/postgres}
run_step "cargo test --test api --test pipeline (PostgreSQL)" "$logs/cargo-test-postgres.log" \
    env LIVENOTIFY_TEST_DATABASE="$pg_server" cargo test --test api --test pipeline \
    --no-fail-fast || rust_ok=0
pg_counts=$(count_rust "$logs/cargo-test-postgres.log") || pg_counts="0 0"
read -r pg_passed pg_failed <<<"$pg_counts"
rust_passed=$((rust_passed + pg_passed))
rust_failed=$((rust_failed + pg_failed))
# A runner that failed before reporting any test (say, a compile error) still counts.
if [ "$rust_ok" -eq 0 ] && [ "$rust_failed" -eq 0 ]; then
    rust_failed=1
fi

# ---- SDK tests ------------------------------------------------------------------------------

if [ "$built" -eq 1 ]; then
    export LIVENOTIFY_BIN="$target_dir/debug/livenotify"
    junit="$logs/sdk-junit.xml"
    rm -f "$junit"
    sdk_ok=1
    run_step "pytest tests/sdk" "$logs/pytest.log" \
        timeout --kill-after=30 2400 "$repo_root/.venv/bin/python" -m pytest tests/sdk -v -rfE \
        -p no:cacheprovider --junitxml="$junit" || sdk_ok=0
    counts=$(python3 - "$junit" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0)
    sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(tests - bad - skipped, bad)
EOF
    ) || counts="0 0"
    read -r sdk_passed sdk_failed <<<"$counts"
    # pytest exit 5 (nothing collected) or a crash before the report is a failure too.
    if [ "$sdk_ok" -eq 0 ] && [ "$sdk_failed" -eq 0 ]; then
        sdk_failed=1
    fi
else
    banner "pytest tests/sdk"
    echo "skipped: the livenotify binary did not build"
    failed_steps+=("pytest tests/sdk (not run)")
    sdk_failed=1
fi

# ---- Console tests (the web console in Chromium) --------------------------------------------

console_passed=0
console_failed=0
if [ "$built" -eq 1 ]; then
    console_ok=1
    run_step "node --test tests/console" "$logs/console.log" \
        env LIVENOTIFY_BIN="$target_dir/debug/livenotify" \
        timeout --kill-after=30 600 node --test tests/console/console.test.mjs \
        tests/console/sign.test.mjs || console_ok=0
    console_passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$logs/console.log" | tail -n 1)
    console_failed=$(sed -n 's/^# \(fail\|cancelled\) \([0-9]*\)$/\2/p' "$logs/console.log" \
        | awk '{ n += $1 } END { print n + 0 }')
    console_passed=${console_passed:-0}
    if [ "$console_ok" -eq 0 ] && [ "$console_failed" -eq 0 ]; then
        console_failed=1
    fi
else
    banner "node --test tests/console"
    echo "skipped: the livenotify binary did not build"
    failed_steps+=("node --test tests/console (not run)")
    console_failed=1
fi

# ---- Summary --------------------------------------------------------------------------------

banner "summary"
printf 'gates (fmt, clippy, build): %d passed, %d failed\n' "$gate_passed" "$gate_failed"
printf 'Rust tests:                 %d passed, %d failed\n' "$rust_passed" "$rust_failed"
printf 'SDK tests (pytest):         %d passed, %d failed\n' "$sdk_passed" "$sdk_failed"
printf 'Console tests (Chromium):   %d passed, %d failed\n' "$console_passed" "$console_failed"
if [ "${#failed_steps[@]}" -gt 0 ]; then
    printf 'FAILED steps: %s\n' "$(IFS=';'; echo "${failed_steps[*]}" | sed 's/;/; /g')"
fi
printf 'logs: %s\n' "$logs"
total_passed=$((gate_passed + rust_passed + sdk_passed + console_passed))
total_failed=$((gate_failed + rust_failed + sdk_failed + console_failed))
printf 'total: %d passed, %d failed\n' "$total_passed" "$total_failed"

[ "${#failed_steps[@]}" -eq 0 ] && [ "$total_failed" -eq 0 ]
