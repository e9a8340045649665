#!/bin/sh
# The libvox demo: vox-sim plays the calls of examples/demo.scn, sending each
# to examples/ivr (an outbound socket server) while examples/monitor watches
# the channel events on vox-sim's inbound socket; then it prints what every
# call did, seen from all three.
#
#   sh scripts/demo.sh [BUILD_DIR]      (make demo; BUILD_DIR defaults to build)
#
# VOX_SIM names another vox-sim binary; VOX_DEMO_TIMEOUT bounds the calls
# (seconds, default 30). Exit 0 when vox-sim says every call ended as scripted
# and all three programs stopped cleanly.
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/proc.sh"
sim=${VOX_SIM:-$build/vox-sim}
ivr=$build/examples/ivr
monitor=$build/examples/monitor
scenario=$top/examples/demo.scn
limit=${VOX_DEMO_TIMEOUT:-30}

ivr_pid=
sim_pid=
mon_pid=
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vox-demo.XXXXXX") || exit 1

say() { echo "demo: $*"; }

# SIGTERM process $2 (named $1), wait for it, and complain unless it exits 0.
stop() {
    [ -n "$2" ] || return 0
    kill -TERM "$2" 2>/dev/null
    if ! await_exit "$2" 50; then
        say "$1 (pid $2) ignored SIGTERM: killed"
        kill -KILL "$2" 2>/dev/null
        wait "$2" 2>/dev/null
        failed=1
        return 1
    fi
    wait "$2"
    _rc=$?
    if [ "$_rc" -ne 0 ]; then
        say "$1 exited with status $_rc"
        failed=1
    fi
}

cleanup() {
    stop monitor "$mon_pid"
    stop vox-sim "$sim_pid"
    stop ivr "$ivr_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail_start() { # NAME ERRFILE
    say "$1 did not start:"
    sed 's/^/    /' "$2"
    exit 1
}

for p in "$sim" "$ivr" "$monitor"; do
    if [ ! -x "$p" ]; then
        say "$p missing (build first: make)"
        exit 1
    fi
done

"$ivr" --port 0 >"$tmp/ivr.out" 2>"$tmp/ivr.err" &
ivr_pid=$!
await_line "$tmp/ivr.err" '^ivr: listening on' "$ivr_pid" || fail_start ivr "$tmp/ivr.err"
ivr_port=$(port_of "$tmp/ivr.err")

"$sim" --port 0 --scenario "$scenario" --socket "127.0.0.1:$ivr_port" --wait-clients 1 \
    --timeout "$limit" >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim_pid=$!
await_line "$tmp/sim.err" '^vox-sim: listening on' "$sim_pid" ||
    fail_start vox-sim "$tmp/sim.err"
sim_port=$(port_of "$tmp/sim.err")

# vox-sim places its calls once the monitor has subscribed (--wait-clients 1).
"$monitor" --port "$sim_port" >"$tmp/mon.out" 2>"$tmp/mon.err" &
mon_pid=$!
await_line "$tmp/mon.err" '^connected' "$mon_pid" || fail_start monitor "$tmp/mon.err"

say "ivr (pid $ivr_pid) on 127.0.0.1:$ivr_port, vox-sim (pid $sim_pid) on" \
    "127.0.0.1:$sim_port, monitor (pid $mon_pid)"

# vox-sim gives up by itself after $limit s (status 3); this is the backstop.
if await_exit "$sim_pid" $((limit * 10 + 100)); then
    wait "$sim_pid"
    sim_rc=$?
    sim_pid=
else
    say "vox-sim still running after $limit s"
    stop vox-sim "$sim_pid"
    sim_pid=
    sim_rc=3
fi
# The IVR finishes its calls before it exits, so its log is complete after.
stop monitor "$mon_pid"
mon_pid=
stop ivr "$ivr_pid"
ivr_pid=

# The account: vox-sim's steps per call, the IVR's result and the channel
# events the monitor saw for the same uuid.
awk -v ivrlog="$tmp/ivr.out" -v monlog="$tmp/mon.out" '
BEGIN {
    while ((getline l < ivrlog) > 0) {
        split(l, f, " ")
        if (f[1] == "call") { sub(/^call [^ ]* /, "", l); ivr[f[2]] = l }
    }
    while ((getline l < monlog) > 0) {
        n = split(l, f, " ")
        if (n < 2) continue
        name = f[1]
        if (name == "CHANNEL_HANGUP" && n >= 3) name = name " " f[3]
        if (f[2] in seen)
            seen[f[2]] = seen[f[2]] " > " name
        else
            seen[f[2]] = name
    }
}
/^call .* uuid [^ ]*$/ {
    uuid = $NF
    name = $0
    sub(/^call /, "", name)
    sub(/ uuid [^ ]*$/, "", name)
    printf "\ncall %s (uuid %s)\n", name, uuid
    first = 1
    next
}
/^  ended: |^  not ended/ {
    sub(/^  (ended: )?/, "")
    printf "  end:     %s\n", $0
    printf "  ivr:     %s\n", (uuid in ivr) ? ivr[uuid] : "(no line for this call)"
    printf "  monitor: %s\n", (uuid in seen) ? seen[uuid] : "(no events for this call)"
    next
}
/^  / { sub(/^  /, ""); printf "  %s %s\n", first ? "steps:  " : "        ", $0; first = 0; next }
/^[0-9]+ calls?, [0-9]+ as scripted$/ { printf "\ndemo: %s calls, %s ended as scripted\n", $1, $3 }
' "$tmp/sim.out"

if [ ! -s "$tmp/sim.out" ] || [ "$sim_rc" -ne 0 ]; then
    say "vox-sim exited with status $sim_rc; its log:"
    sed 's/^/    /' "$tmp/sim.err" | tail -n 40
    failed=1
fi
exit "$failed"
