#!/bin/sh
# Every complete C program in README.md (a ```c block that starts with
# #include) compiles against the headers, warnings as errors.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
awk -v dir="$tmp" '
    /^```c$/ { inblock = 1; n++; file = dir "/ex" n ".c"; first = 1; next }
    /^```$/  { inblock = 0; next }
    inblock  { if (first && $0 !~ /^#include/) { inblock = 0; next } first = 0; print > file }
' README.md
uvflags=$(pkg-config --cflags libuv 2>/dev/null)
count=0
for f in "$tmp"/ex*.c; do
    [ -f "$f" ] || continue
    count=$((count + 1))
    if cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wno-unused-parameter \
        -Iinclude -Isim $uvflags -fsyntax-only "$f" 2>"$tmp/err"; then
        echo "ok README example $count"
    else
        echo "not ok README example $count"
        sed 's/^/# /' "$tmp/err" | head -20
    fi
done
[ "$count" -ge 4 ] && echo "ok README has its examples" || echo "not ok README has its examples"
