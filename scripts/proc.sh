# Shell helpers shared by scripts/demo.sh and the vox-sim shell tests
# (sourced, POSIX sh): background programs, their "listening on" lines, and
# the tests' "ok NAME" / "not ok NAME" lines. Every wait is bounded.

# Is process $1 (may be empty) alive?
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Wait at most $2 tenths of a second for process $1 to end; true once it has.
await_exit() {
    _n=0
    while alive "$1" && [ "$_n" -lt "$2" ]; do
        sleep 0.1
        _n=$((_n + 1))
    done
    ! alive "$1"
}

# Wait until file $1 has a line matching $2, while process $3 lives, for at
# most $4 tenths of a second (default 100); true once it has.
await_line() {
    _n=0
    while [ "$_n" -lt "${4:-100}" ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        alive "$3" || break
        sleep 0.1
        _n=$((_n + 1))
    done
    grep -q "$2" "$1" 2>/dev/null
}

# The port of the first "NAME: listening on HOST:PORT" line of file $1.
port_of() {
    sed -n 's/^[a-z-]*: listening on .*:\([0-9][0-9]*\)$/\1/p' "$1" | head -n 1
}

# check NAME COMMAND...: "ok NAME" when the command succeeds, else "not ok NAME".
check() {
    _test=$1
    shift
    if "$@"; then echo "ok $_test"; else echo "not ok $_test"; fi
}
