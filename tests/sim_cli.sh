#!/bin/sh
# Tests of the vox-sim binary: flags, exit statuses, signals, and what a
# client sees. Usage: sh tests/sim_cli.sh SAN_BUILD_DIR (vox-sim is $VOX_SIM
# or SAN_BUILD_DIR/vox-sim, the vox tool $VOX_TOOL or SAN_BUILD_DIR/vox, the
# example IVR BUILD_DIR/examples/ivr, BUILD_DIR being SAN_BUILD_DIR's parent).
# Prints "ok NAME" / "not ok NAME" lines. Every wait is bounded; every port is
# picked by the system (--port 0) and read back from the program's stderr.
dir=${1:-build/san}
rel=$(dirname "$dir")
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/proc.sh"
sim=${VOX_SIM:-$dir/vox-sim}
vox=${VOX_TOOL:-$dir/vox}
ivr=$rel/examples/ivr
tmp=$(mktemp -d)
pids=

cleanup() {
    for p in $pids; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $pids; do
        await_exit "$p" 50 || kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME CMD...: CMD in the background, output in $tmp/NAME.out and .err;
# sets pid, and port from its "listening on" line (empty when none came).
start() {
    _name=$1
    shift
    "$@" >"$tmp/$_name.out" 2>"$tmp/$_name.err" &
    pid=$!
    pids="$pids $pid"
    port=
    await_line "$tmp/$_name.err" ': listening on ' "$pid" && port=$(port_of "$tmp/$_name.err")
}

finish() { # PID: wait for it (bounded), set rc (124 when it had to be killed)
    if await_exit "$1" 100; then
        wait "$1"
        rc=$?
    else
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        rc=124
    fi
}

sim_run() { # ARGS...: vox-sim in the foreground, bounded; rc, $tmp/run.out, $tmp/run.err
    timeout 30 "$sim" "$@" >"$tmp/run.out" 2>"$tmp/run.err"
    rc=$?
}

if [ ! -x "$sim" ]; then
    echo "not ok vox_sim_built # $sim missing"
    exit 0
fi

# ---- usage errors: status 2, a message and the usage on stderr
sim_run --bogus
check bad_flag_exit_2 [ "$rc" -eq 2 ]
check bad_flag_message grep -q "^vox-sim: unknown flag '--bogus'" "$tmp/run.err"
check bad_flag_usage grep -q '^usage: vox-sim' "$tmp/run.err"
sim_run extra
check operand_exit_2 [ "$rc" -eq 2 ]
for bad in "--port x" "--port 65536" "--speed 0" "--speed fast" "--timeout -1" \
    "--heartbeat 1h" "--wait-clients many" "--socket nowhere" "--flood -3" \
    "--call 12x --socket 127.0.0.1:9"; do
    # shellcheck disable=SC2086 # the words are the flags
    sim_run $bad
    check "bad_value_exit_2 ($bad)" [ "$rc" -eq 2 ]
done
sim_run --port
check missing_value_exit_2 [ "$rc" -eq 2 ]
check missing_value_message grep -q '^vox-sim: --port needs a value' "$tmp/run.err"
sim_run --call 42#
check call_without_socket_exit_2 [ "$rc" -eq 2 ]
check call_without_socket_message grep -q -- '--call needs --socket' "$tmp/run.err"
sim_run --help
check help_exit_0 [ "$rc" -eq 0 ]
check help_on_stdout grep -q '^usage: vox-sim' "$tmp/run.out"
sim_run --version
check version_exit_0 [ "$rc" -eq 0 ]
check version_text grep -q '^vox-sim [0-9][0-9]*\.[0-9][0-9]*\.[0-9]' "$tmp/run.out"

# ---- scenario errors: status 2, FILE:LINE: message
printf 'speed 2\n# fine so far\nwobble 3\n' >"$tmp/bad.scn"
sim_run --port 0 --scenario "$tmp/bad.scn"
check bad_scenario_exit_2 [ "$rc" -eq 2 ]
check bad_scenario_file_line grep -q "^vox-sim: $tmp/bad.scn:3: unknown directive 'wobble'" \
    "$tmp/run.err"
printf 'call a\n    dtmf 1s 42#\n' >"$tmp/nosock.scn"
sim_run --port 0 --scenario "$tmp/nosock.scn"
check scenario_without_socket_exit_2 [ "$rc" -eq 2 ]
check scenario_without_socket_line grep -q "$tmp/nosock.scn:1: call a has no socket" \
    "$tmp/run.err"
sim_run --port 0 --scenario "$tmp/missing.scn"
check missing_scenario_exit_2 [ "$rc" -eq 2 ]
check missing_scenario_message grep -q "$tmp/missing.scn: cannot read" "$tmp/run.err"

# ---- foreground: serves until SIGTERM, exits 0, the port is closed after
start fg "$sim" --port 0
fg_pid=$pid
fg_port=$port
check foreground_listening [ -n "$fg_port" ]
if [ -n "$fg_port" ]; then
    "$vox" api -P "$fg_port" status >"$tmp/status.out" 2>&1
    check api_status_exit_0 [ $? -eq 0 ]
    check api_status_text grep -q 'UP' "$tmp/status.out"

    # A second simulator cannot bind the same port: setup error.
    sim_run --port "$fg_port"
    check bind_failure_exit_2 [ "$rc" -eq 2 ]
    check bind_failure_message grep -q '^vox-sim: cannot listen on 127.0.0.1:' "$tmp/run.err"
fi
kill -TERM "$fg_pid"
finish "$fg_pid"
check sigterm_exit_0 [ "$rc" -eq 0 ]
if [ -n "$fg_port" ]; then
    "$vox" api -P "$fg_port" status >/dev/null 2>&1
    check port_closed_after_sigterm [ $? -eq 2 ]
fi

start int "$sim" --port 0
kill -INT "$pid"
finish "$pid"
check sigint_exit_0 [ "$rc" -eq 0 ]

# ---- inbound faults from the command line
start rej "$sim" --port 0 --reject-auth
if [ -n "$port" ]; then
    "$vox" api -P "$port" status >/dev/null 2>"$tmp/rej.api"
    check reject_auth_api_exit_2 [ $? -eq 2 ]
fi
kill -TERM "$pid"
finish "$pid"
check reject_auth_sigterm_exit_0 [ "$rc" -eq 0 ]

start acl "$sim" --port 0 --acl-reject
if [ -n "$port" ]; then
    "$vox" api -P "$port" status >/dev/null 2>&1
    check acl_reject_api_exit_2 [ $? -eq 2 ]
fi
kill -TERM "$pid"
finish "$pid"

start flood "$sim" --port 0 --flood 40
if [ -n "$port" ]; then
    timeout 20 "$vox" events -P "$port" --count 40 ALL >"$tmp/flood.out" 2>&1
    check flood_events_exit_0 [ $? -eq 0 ]
    check flood_events_count [ "$(wc -l <"$tmp/flood.out" | tr -d ' ')" -eq 40 ]
fi
kill -TERM "$pid"
finish "$pid"

# ---- calls, against the example IVR
start ivr "$ivr" --port 0
ivr_pid=$pid
ivr_port=$port
if [ -z "$ivr_port" ]; then
    echo "not ok ivr_available # $ivr --port 0 did not start: $(head -c 200 "$tmp/ivr.err")"
    exit 0
fi
to_ivr="--socket 127.0.0.1:$ivr_port"

# shellcheck disable=SC2086
sim_run --port 0 --speed 20 $to_ivr --call 42#
check call_exit_0 [ "$rc" -eq 0 ]
check call_account_header grep -q '^call .* uuid [0-9a-f-]\{36\}$' "$tmp/run.out"
check call_account_ended grep -q '^  ended: NORMAL_CLEARING — as scripted$' "$tmp/run.out"
check call_summary grep -q '^1 call, 1 as scripted$' "$tmp/run.out"
check call_listening_line grep -q '^vox-sim: listening on 127.0.0.1:[0-9]' "$tmp/run.err"

cat >"$tmp/wrong.scn" <<EOF
speed 20
call hopeful
    dtmf 1s 42#
    expect cause NORMAL_CLEARING
    expect var ivr_result=99
EOF
# shellcheck disable=SC2086
sim_run --port 0 --scenario "$tmp/wrong.scn" $to_ivr
check unmet_expectation_exit_1 [ "$rc" -eq 1 ]
check unmet_expectation_account grep -q '^  ended: .* — NOT as scripted: .*ivr_result' "$tmp/run.out"
check unmet_expectation_summary grep -q '^1 call, 0 as scripted$' "$tmp/run.out"

# Two --call calls, one hanging up early; the log goes to a file.
# shellcheck disable=SC2086
sim_run --port 0 --speed 20 $to_ivr --call 7# --call - --hangup-after 300ms --log "$tmp/sim.log"
check two_calls_exit_0 [ "$rc" -eq 0 ]
check two_calls_summary grep -q '^2 calls, 2 as scripted$' "$tmp/run.out"
check log_file_written grep -q '^vox-sim: ' "$tmp/sim.log"
check log_not_on_stderr [ "$(grep -cv ': listening on ' "$tmp/run.err")" -eq 0 ]

# --quiet leaves out the info lines.
# shellcheck disable=SC2086
sim_run --port 0 --speed 20 $to_ivr --call 1# --quiet
check quiet_exit_0 [ "$rc" -eq 0 ]
check quiet_no_info [ "$(grep -c '^vox-sim: info: ' "$tmp/run.err")" -eq 0 ]

# The IVR waits 3 simulated seconds for digits; at speed 1 that outlasts 0.5 s.
# shellcheck disable=SC2086
sim_run --port 0 --speed 1 $to_ivr --call - --timeout 0.5
check timeout_exit_3 [ "$rc" -eq 3 ]
check timeout_message grep -q '^vox-sim: timed out' "$tmp/run.err"
check timeout_account grep -q '^1 call, 0 as scripted$' "$tmp/run.out"

# SIGTERM while a call runs: stops at once, still prints the account.
# shellcheck disable=SC2086
start mid "$sim" --port 0 --speed 1 $to_ivr --call -
kill -TERM "$pid"
finish "$pid"
check sigterm_during_call_exit_1 [ "$rc" -eq 1 ]
check sigterm_during_call_account grep -q '^1 call, 0 as scripted$' "$tmp/mid.out"

kill -TERM "$ivr_pid"
finish "$ivr_pid"
check ivr_stopped [ "$rc" -eq 0 ]
