#!/bin/sh
# Runs every test program under the build dirs given (the first is the
# ASan+UBSan one, others e.g. the ThreadSanitizer one) and prints one summary
# line. Each cmocka test counts once; a program that crashes or times out
# without reporting counts as one failure. Each program is bounded by a timeout.
dir=${1:-build/san}
limit=${VOX_TEST_TIMEOUT:-300}
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
# test_client runs the tool against its fake FreeSWITCH.
export VOX_TOOL="${VOX_TOOL:-$dir/vox}"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

count() { grep -c "$1" "$log" | tr -d ' '; }

for t in $(for d in "$@"; do ls "$d"/tests/test_* 2>/dev/null; done); do
    [ -x "$t" ] || continue
    name=$(basename "$(dirname "$(dirname "$t")")")/$(basename "$t")
    timeout "$limit" "$t" >"$log" 2>&1
    rc=$?
    ok=$(count '^\[       OK \]')
    bad=$(grep '^\[  FAILED  \] [a-z_]' "$log" | sort -u | wc -l | tr -d ' ')
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        failed=$((failed + 1))
        echo "FAIL $name: exited with status $rc (crash or timeout)"
    fi
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$log"
    fi
    echo "$name: $ok passed, $bad failed"
done

# Shell tests print "ok NAME" / "not ok NAME" lines.
for t in tests/*.sh; do
    [ "$t" = tests/run.sh ] && continue
    [ -f "$t" ] || continue
    timeout "$limit" sh "$t" "$dir" >"$log" 2>&1
    rc=$?
    ok=$(count '^ok ')
    bad=$(count '^not ok ')
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        failed=$((failed + 1))
        echo "FAIL $t: exited with status $rc"
    fi
    [ "$bad" -ne 0 ] && grep '^not ok\|^#' "$log" | head -40
    echo "$(basename "$t"): $ok passed, $bad failed"
done

# Replay of the fuzz corpus: each file is one test.
for r in "$dir"/fuzz/replay_*; do
    [ -x "$r" ] || continue
    name=${r##*/replay_}
    for f in fuzz/corpus/"$name"/*; do
        [ -f "$f" ] || continue
        if timeout "$limit" "$r" "$f" >"$log" 2>&1; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            echo "FAIL fuzz replay $name $f"
            tail -n 30 "$log"
        fi
    done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
