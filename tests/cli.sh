#!/bin/sh
# Tests of the vox command-line tool. Usage: sh tests/cli.sh BUILD_DIR
# (the tool is BUILD_DIR/vox). Prints "ok NAME" / "not ok NAME" lines.
dir=${1:-build/san}
vox=$dir/vox
fx=${VOX_FIXTURES:-tests/fixtures}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

check() { # NAME COMMAND...: ok when the command succeeds
    _test=$1
    shift
    if "$@"; then echo "ok $_test"; else echo "not ok $_test"; fi
}

if [ ! -x "$vox" ]; then
    echo "not ok vox_built # $vox missing"
    exit 0
fi

if command -v python3 >/dev/null 2>&1; then
    have_python=1
else
    have_python=0
    echo "# python3 not found: JSON validity checks skipped"
fi

# Every line of file $1 is a JSON object (true when python3 is missing).
json_lines() {
    [ "$have_python" -eq 0 ] && return 0
    python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    obj = json.loads(line)
    assert isinstance(obj, dict) and "content_type" in obj and "headers" in obj
    assert "body" in obj
' "$1" 2>"$tmp/py.err"
}

# Python expression $2 over the JSON of line $3 (1-based) of file $1.
json_expr() {
    [ "$have_python" -eq 0 ] && return 0
    python3 -c '
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
d = json.loads(lines[int(sys.argv[3]) - 1])
sys.exit(0 if eval(sys.argv[2]) else 1)
' "$1" "$2" "$3"
}

lines() { wc -l <"$1" | tr -d ' '; }

# ---- version and usage
out=$("$vox" --version)
check version [ $? -eq 0 ]
check version_text grep -q '^vox [0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*' <<EOT
$out
EOT
"$vox" >/dev/null 2>"$tmp/err"
check usage_no_args_exit_2 [ $? -eq 2 ]
check usage_on_stderr grep -q '^usage: vox' "$tmp/err"
"$vox" no-such-command >/dev/null 2>&1
check unknown_command_exit_2 [ $? -eq 2 ]
"$vox" parse a b >/dev/null 2>&1
check parse_two_files_exit_2 [ $? -eq 2 ]
"$vox" parse --bogus >/dev/null 2>&1
check parse_bad_option_exit_2 [ $? -eq 2 ]
"$vox" help parse >"$tmp/help"
check help_parse_exit_0 [ $? -eq 0 ]
check help_parse_text grep -q 'vox parse' "$tmp/help"

# ---- fixtures: exit 0, nothing on stderr, one valid JSON line per message
for pair in inbound_01_auth_ok_api_status_version:6 inbound_04_event_plain_ALL_with_call:57 \
    inbound_05_event_json_CHANNEL_CREATE:7 inbound_06_event_xml_HEARTBEAT:6 \
    inbound_13_log_7:120 outbound_9101_myevents_json_linger2:25 \
    outbound_9101_linger_forever_then_exit:26 inbound_25_event_flood:969; do
    name=${pair%%:*}
    want=${pair##*:}
    "$vox" parse "$fx/$name.s2c.raw" >"$tmp/out" 2>"$tmp/err"
    check "parse_${name}_exit_0" [ $? -eq 0 ]
    check "parse_${name}_no_stderr" [ ! -s "$tmp/err" ]
    check "parse_${name}_count" [ "$(lines "$tmp/out")" -eq "$want" ]
    check "parse_${name}_json" json_lines "$tmp/out"
done

# ---- content of the output
f=$fx/inbound_01_auth_ok_api_status_version.s2c.raw
"$vox" parse "$f" >"$tmp/01"
check body_null_without_body json_expr "$tmp/01" 'd["body"] is None and "event" not in d' 1
check reply_headers json_expr "$tmp/01" 'd["headers"]["Reply-Text"] == "+OK accepted"' 2
check api_body json_expr "$tmp/01" 'len(d["body"]) == 335' 3
"$vox" parse "$fx/inbound_05_event_json_CHANNEL_CREATE.s2c.raw" >"$tmp/05"
check json_event json_expr "$tmp/05" \
    'd["event"]["name"] == "CHANNEL_CREATE" and d["event"]["headers"]["FreeSWITCH-IPv6"] == "fd00::2" and "subclass" not in d["event"]' 4
"$vox" parse "$fx/inbound_06_event_xml_HEARTBEAT.s2c.raw" >"$tmp/06"
check xml_event_decoded json_expr "$tmp/06" \
    'd["event"]["headers"]["Event-Date-GMT"] == "Thu, 26 Nov 2026 12:45:24 GMT"' 4
"$vox" parse "$fx/outbound_9101_linger_forever_then_exit.s2c.raw" >"$tmp/ob"
check connect_reply_event json_expr "$tmp/ob" \
    'd["content_type"] == "command/reply" and d["event"]["headers"]["Channel-Name"] == "loopback/9101-b" and d["headers"]["Reply-Text"] == "%2BOK%0A"' 1

# A repeated header, a multi-valued event header, a CUSTOM event.
printf 'Content-Type: command/reply\nReply-Text: +OK\nX-A: 1\nX-A: 2\n\n' >"$tmp/rep"
printf 'Content-Length: 66\nContent-Type: text/event-plain\n\n' >>"$tmp/rep"
printf 'Event-Name: CUSTOM\nEvent-Subclass: sofia%%3A%%3Areg\nV: ARRAY::a|:b\n\n' >>"$tmp/rep"
"$vox" parse "$tmp/rep" >"$tmp/rep.out" 2>"$tmp/err"
check repeated_exit_0 [ $? -eq 0 ]
check repeated_header_array grep -q '"X-A":\["1","2"\]' "$tmp/rep.out"
check event_values_array grep -q '"V":\["a","b"\]' "$tmp/rep.out"
check custom_subclass grep -q '"subclass":"sofia::reg"' "$tmp/rep.out"
check event_body_null json_expr "$tmp/rep.out" 'd["event"]["body"] is None' 2

# Bytes that are not UTF-8 still give valid JSON (U+FFFD).
printf 'Content-Type: api/response\nContent-Length: 6\n\nA\377\376\000B\n' >"$tmp/bin"
"$vox" parse "$tmp/bin" >"$tmp/bin.out"
check invalid_utf8_exit_0 [ $? -eq 0 ]
check invalid_utf8_json json_expr "$tmp/bin.out" 'd["body"] == "A\ufffd\ufffd\x00B\n"' 1

# ---- stdin
"$vox" parse "$f" >"$tmp/a"
"$vox" parse <"$f" >"$tmp/b"
check stdin_default cmp -s "$tmp/a" "$tmp/b"
"$vox" parse - <"$f" >"$tmp/c"
check stdin_dash cmp -s "$tmp/a" "$tmp/c"
cat "$fx/inbound_25_event_flood.s2c.raw" | "$vox" parse >"$tmp/pipe"
check stdin_pipe_large [ "$(lines "$tmp/pipe")" -eq 969 ]

# ---- errors: what parsed is printed, then the error and its position
printf 'Content-Type: command/reply\nReply-Text: +OK\n\nbogus line\n\n' >"$tmp/bad"
"$vox" parse "$tmp/bad" >"$tmp/bad.out" 2>"$tmp/bad.err"
check malformed_exit_1 [ $? -eq 1 ]
check malformed_partial_output [ "$(lines "$tmp/bad.out")" -eq 1 ]
check malformed_error_position grep -q '^vox parse: error at byte 45: ' "$tmp/bad.err"
head -c 1000 "$fx/inbound_04_event_plain_ALL_with_call.s2c.raw" >"$tmp/cut"
"$vox" parse <"$tmp/cut" >"$tmp/cut.out" 2>"$tmp/cut.err"
check truncated_exit_1 [ $? -eq 1 ]
check truncated_partial_output [ "$(lines "$tmp/cut.out")" -eq 4 ]
check truncated_message grep -q 'error at byte 1000: truncated message at byte 295' "$tmp/cut.err"
"$vox" parse "$tmp/no-such-file" >/dev/null 2>"$tmp/err"
check missing_file_exit_1 [ $? -eq 1 ]
: >"$tmp/empty"
"$vox" parse "$tmp/empty" >"$tmp/empty.out"
check empty_input_exit_0 [ $? -eq 0 ]
check empty_input_no_output [ ! -s "$tmp/empty.out" ]
exit 0
