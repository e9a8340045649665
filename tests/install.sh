#!/bin/sh
# `make install` into a staging DESTDIR, then a program built against the
# installed library with pkg-config runs. Prints ok/not ok lines.
build=${1:-build/san}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM
B="$stage/build"
prefix=/usr/local

if make --no-print-directory -s B="$B" PREFIX="$prefix" DESTDIR="$stage/root" install >"$stage/log" 2>&1; then
    echo "ok install"
else
    echo "not ok install"; sed 's/^/# /' "$stage/log" | tail -20; exit 0
fi

root="$stage/root$prefix"
for f in include/vox/vox.h include/vox/proto.h include/vox/conn.h lib/libvox.a lib/libvox.so \
         lib/libvox.so.0 lib/pkgconfig/vox.pc bin/vox bin/vox-sim share/man/man1/vox.1 \
         share/man/man1/vox-sim.1 share/man/man3/libvox.3; do
    if [ -e "$root/$f" ]; then echo "ok installed $f"; else echo "not ok installed $f"; fi
done

cat >"$stage/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <vox/vox.h>
int main(void)
{
    static const char in[] = "Content-Type: command/reply\nReply-Text: +OK accepted\n\n";
    vox_parser *p;
    vox_msg *m;
    size_t used;
    if (vox_parser_new(&p, NULL) || vox_parser_feed(p, in, sizeof in - 1, &used, &m) != 1)
        return 1;
    printf("%s %s\n", vox_version(), vox_msg_reply_text(m));
    vox_msg_free(m);
    vox_parser_free(p);
    return strcmp(vox_version(), VOX_VERSION_STRING) != 0;
}
C
export PKG_CONFIG_PATH="$root/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$stage/root"
flags=$(pkg-config --cflags --libs vox 2>"$stage/log")
if cc -o "$stage/prog" "$stage/prog.c" $flags 2>>"$stage/log" &&
   LD_LIBRARY_PATH="$root/lib" "$stage/prog" | grep -q "+OK accepted"; then
    echo "ok pkg-config program runs"
else
    echo "not ok pkg-config program runs"; sed 's/^/# /' "$stage/log" | tail -20
fi
if readelf -d "$root/lib/libvox.so" | grep -q 'SONAME.*libvox.so.0'; then
    echo "ok soname"
else
    echo "not ok soname"
fi
