#!/bin/sh
# The demo (scripts/demo.sh) end to end. Usage: sh tests/demo.sh SAN_BUILD_DIR
# The examples come from SAN_BUILD_DIR's parent (the release build); vox-sim
# is $VOX_SIM, else SAN_BUILD_DIR/vox-sim, else the release one.
# Prints "ok NAME" / "not ok NAME" lines.
dir=${1:-build/san}
rel=$(dirname "$dir")
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/proc.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

sim=${VOX_SIM:-$dir/vox-sim}
[ -x "$sim" ] || sim=$rel/vox-sim
for p in "$sim" "$rel/examples/ivr" "$rel/examples/monitor"; do
    if [ ! -x "$p" ]; then
        echo "not ok demo_built # $p missing"
        exit 0
    fi
done

# The demo's own temp files go under $tmp/t, which must be empty after.
mkdir "$tmp/t"
TMPDIR=$tmp/t VOX_SIM=$sim timeout 120 sh "$top/scripts/demo.sh" "$rel" >"$tmp/out" 2>&1
rc=$?
check demo_exit_0 [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/out"
check demo_summary grep -q '^demo: 5 calls, 5 ended as scripted$' "$tmp/out"

# One block per call: its header, its steps, its end, the IVR's line and the
# monitor's events.
block() { # CALL: that call's lines of the account
    awk -v name="$1" '/^call / { on = ($2 == name) } on' "$tmp/out"
}
for pair in forty-two:42 seven:7 four-digits:1234 silent:none; do
    name=${pair%%:*}
    want=${pair##*:}
    block "$name" >"$tmp/block"
    check "demo_${name}_ivr_result_$want" grep -q "^  ivr:     result $want\$" "$tmp/block"
    check "demo_${name}_as_scripted" grep -q '^  end:     NORMAL_CLEARING — as scripted$' "$tmp/block"
    check "demo_${name}_monitor" grep -q \
        '^  monitor: CHANNEL_CREATE > .*CHANNEL_ANSWER > .*CHANNEL_HANGUP NORMAL_CLEARING$' \
        "$tmp/block"
    check "demo_${name}_steps" grep -q '^  steps:   ' "$tmp/block"
done
# The caller who hung up: the IVR got no digits and says why.
block hangs-up >"$tmp/block"
check demo_hangs-up_ivr_result grep -q '^  ivr:     result none error ' "$tmp/block"
check demo_hangs-up_as_scripted grep -q '^  end:     NORMAL_CLEARING — as scripted$' "$tmp/block"

# Nothing left running, nothing left behind.
pids=$(sed -n 's/^demo: ivr (pid \([0-9]*\)).*vox-sim (pid \([0-9]*\)).*monitor (pid \([0-9]*\))$/\1 \2 \3/p' \
    "$tmp/out")
check demo_pids_printed [ -n "$pids" ]
left=
for p in $pids; do
    alive "$p" && left="$left $p"
done
check demo_no_process_left [ -z "$left" ]
check demo_no_temp_left [ -z "$(ls -A "$tmp/t")" ]

# A missing program: a message, a failure, nothing started.
VOX_SIM=$tmp/no-such-sim sh "$top/scripts/demo.sh" "$rel" >"$tmp/out2" 2>&1
check demo_missing_sim_fails [ $? -ne 0 ]
check demo_missing_sim_message grep -q "^demo: $tmp/no-such-sim missing" "$tmp/out2"
