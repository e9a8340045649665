# libvox — build, test, install.
#   make demo       builds everything, then runs vox-sim, the example IVR and monitor on simulated calls
#   make            the library (static and shared), the vox and vox-sim tools, examples
#   make test       every test under ASan+UBSan; ends with "N passed, N failed"
#   make bench      the benchmarks (never part of make test)
#   make fuzz       libFuzzer targets (clang), run briefly over the corpus
#   make install    PREFIX=/usr/local DESTDIR=
.SUFFIXES:

B       ?= build
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
CLANG   ?= clang

VERSION := $(shell sed -n 's/^\#define VOX_VERSION_STRING "\(.*\)"/\1/p' include/vox/common.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))

PKGS      := jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson)
# libuv: only for the programs that include vox/uv.h (tests, examples)
UV_CFLAGS  := $(shell pkg-config --cflags libuv 2>/dev/null)
UV_LIBS    := $(shell pkg-config --libs libuv 2>/dev/null || echo -luv)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wno-unused-parameter
BASE    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -pthread -Iinclude $(WARN) $(PKG_CFLAGS)
RELFLAGS := $(BASE) -O2 -g -fPIC -fvisibility=hidden $(CFLAGS)
SANFLAGS := $(BASE) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=all $(CFLAGS)

LIB_SRC   := $(sort $(wildcard src/*/*.c))
TOOL_SRC  := $(sort $(wildcard tools/vox/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
TESTUTIL  := $(sort $(wildcard tests/util/*.c))
EXAMPLES  := $(patsubst examples/%.c,$(B)/examples/%,$(sort $(wildcard examples/*.c)))
# vox-sim: the simulator library (sim/*.c but main.c) the tests link to, and its binary
SIM_SRC   := $(filter-out sim/main.c,$(sort $(wildcard sim/*.c)))
SIM_OBJ_REL := $(patsubst %.c,$(B)/rel/%.o,$(SIM_SRC))
SIM_OBJ_SAN := $(patsubst %.c,$(B)/san/%.o,$(SIM_SRC))

REL_OBJ   := $(patsubst %.c,$(B)/rel/%.o,$(LIB_SRC))
SAN_OBJ   := $(patsubst %.c,$(B)/san/%.o,$(LIB_SRC))
TESTS     := $(patsubst tests/%.c,$(B)/san/tests/%,$(TEST_SRC))
TOOL_OBJ_REL := $(patsubst %.c,$(B)/rel/%.o,$(TOOL_SRC))
TOOL_OBJ_SAN := $(patsubst %.c,$(B)/san/%.o,$(TOOL_SRC))

all: deps $(B)/libvox.a $(B)/libvox.so $(B)/vox $(B)/vox-sim $(B)/vox.pc $(EXAMPLES)

deps:
	@sh scripts/deps.sh

HDRS := $(wildcard include/vox/*.h src/*.h src/*/*.h sim/*.h)

$(B)/rel/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(RELFLAGS) $(UV_CFLAGS) -c $< -o $@

$(B)/san/%.o: %.c $(HDRS) $(wildcard tests/util/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(UV_CFLAGS) -Itests -c $< -o $@

$(B)/libvox.a: $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libvox.so.$(VERSION): $(REL_OBJ)
	$(CC) -shared -Wl,-soname,libvox.so.$(SOMAJOR) -pthread -o $@ $^ $(LDFLAGS)

$(B)/libvox.so: $(B)/libvox.so.$(VERSION)
	ln -sf libvox.so.$(VERSION) $(B)/libvox.so.$(SOMAJOR)
	ln -sf libvox.so.$(VERSION) $@

$(B)/vox: $(TOOL_OBJ_REL) $(B)/libvox.a
	$(CC) $(RELFLAGS) -o $@ $(TOOL_OBJ_REL) $(B)/libvox.a $(PKG_LIBS) $(LDFLAGS)

$(B)/libvoxsim.a: $(SIM_OBJ_REL)
	@rm -f $@
	ar rcs $@ $^

$(B)/vox-sim: sim/main.c $(B)/libvoxsim.a $(B)/libvox.a
	$(CC) $(RELFLAGS) $(UV_CFLAGS) -o $@ $< $(B)/libvoxsim.a $(B)/libvox.a $(UV_LIBS) $(LDFLAGS)

$(B)/examples/%: examples/%.c $(B)/libvox.a
	@mkdir -p $(dir $@)
	$(CC) $(RELFLAGS) $(UV_CFLAGS) -o $@ $< $(B)/libvox.a $(PKG_LIBS) $(UV_LIBS) $(LDFLAGS)

$(B)/vox.pc: vox.pc.in include/vox/common.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' vox.pc.in > $@

# ------------------------------------------------------------------ tests
$(B)/san/libvox.a: $(SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/san/libvoxsim.a: $(SIM_OBJ_SAN)
	@rm -f $@
	ar rcs $@ $^

$(B)/san/tests/%: tests/%.c $(wildcard tests/*.h tests/util/*.h) $(patsubst %.c,$(B)/san/%.o,$(TESTUTIL)) $(B)/san/libvox.a $(B)/san/libvoxsim.a
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(UV_CFLAGS) -Itests -Isim -o $@ $< $(patsubst %.c,$(B)/san/%.o,$(TESTUTIL)) \
	    $(B)/san/libvoxsim.a $(B)/san/libvox.a $(PKG_LIBS) $(UV_LIBS) -lcmocka $(LDFLAGS)

$(B)/san/vox-sim: sim/main.c $(B)/san/libvoxsim.a $(B)/san/libvox.a
	$(CC) $(SANFLAGS) $(UV_CFLAGS) -o $@ $< $(B)/san/libvoxsim.a $(B)/san/libvox.a $(UV_LIBS) $(LDFLAGS)

$(B)/san/vox: $(TOOL_OBJ_SAN) $(B)/san/libvox.a
	$(CC) $(SANFLAGS) -o $@ $(TOOL_OBJ_SAN) $(B)/san/libvox.a $(PKG_LIBS) $(LDFLAGS)

$(B)/san/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay.c $(B)/san/libvox.a
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ fuzz/fuzz_$*.c fuzz/replay.c $(B)/san/libvox.a $(PKG_LIBS) $(LDFLAGS)

FUZZERS := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
REPLAYS := $(patsubst %,$(B)/san/fuzz/replay_%,$(FUZZERS))

FIXTURES ?= $(abspath tests/fixtures)

# ------------------------------------------------------------------ tsan
# The threaded code (server, client) also runs under ThreadSanitizer, as part
# of `make test`.
TSANFLAGS  := $(BASE) -O1 -g -fno-omit-frame-pointer -fsanitize=thread $(CFLAGS)
TSAN_SRC   := $(sort $(wildcard tests/test_server*.c tests/test_client*.c tests/test_aclient*.c \
                                tests/test_aserver*.c tests/test_sim*.c tests/test_runner*.c))
TSAN_TESTS := $(patsubst tests/%.c,$(B)/tsan/tests/%,$(TSAN_SRC))
TSAN_OBJ   := $(patsubst %.c,$(B)/tsan/%.o,$(LIB_SRC) $(TESTUTIL) $(SIM_SRC))

$(B)/tsan/%.o: %.c $(HDRS) $(wildcard tests/util/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TSANFLAGS) $(UV_CFLAGS) -Itests -c $< -o $@

$(B)/tsan/tests/%: tests/%.c $(TSAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(TSANFLAGS) $(UV_CFLAGS) -Itests -Isim -o $@ $< $(TSAN_OBJ) $(PKG_LIBS) $(UV_LIBS) -lcmocka $(LDFLAGS)

test-tsan: deps $(TSAN_TESTS) $(B)/san/vox
	@VOX_FIXTURES=$(FIXTURES) VOX_TOOL=$(B)/san/vox VOX_SIM=$(B)/san/vox-sim sh tests/run.sh $(B)/tsan

.PHONY: test-tsan

test: deps $(TESTS) $(TSAN_TESTS) $(B)/san/vox $(B)/san/vox-sim $(REPLAYS) $(B)/vox-sim $(EXAMPLES)
	@VOX_FIXTURES=$(FIXTURES) VOX_SIM=$(B)/san/vox-sim sh tests/run.sh $(B)/san $(B)/tsan

# ------------------------------------------------------------------ bench
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCHES   := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

$(B)/bench/%: bench/%.c $(wildcard bench/*.h) $(B)/libvox.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O2 -g -DNDEBUG -o $@ $< $(B)/libvox.a $(PKG_LIBS) \
	    $(shell pkg-config --libs libuv) $(LDFLAGS)

bench: deps $(BENCHES)
	@for b in $(BENCHES); do VOX_FIXTURES=$(FIXTURES) $$b || exit 1; done

# ------------------------------------------------------------------ fuzz
FUZZFLAGS := $(BASE) -O1 -g -fsanitize=fuzzer,address,undefined
$(B)/fuzz/fuzz_%: fuzz/fuzz_%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS)

FUZZ_SECONDS ?= 30
fuzz:
	@sh scripts/deps.sh --fuzz
	@$(MAKE) --no-print-directory $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZERS))
	@for f in $(FUZZERS); do mkdir -p $(B)/fuzz/corpus_$$f; \
	    $(B)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(B)/fuzz/ \
	        $(B)/fuzz/corpus_$$f fuzz/corpus/$$f || exit 1; done

# ------------------------------------------------------------------ install
install: all
	mkdir -p $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/vox $(DESTDIR)$(BINDIR)
	cp include/vox/*.h $(DESTDIR)$(INCDIR)/vox/
	cp $(B)/libvox.a $(DESTDIR)$(LIBDIR)/
	cp $(B)/libvox.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libvox.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libvox.so.$(SOMAJOR)
	ln -sf libvox.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libvox.so
	cp $(B)/vox.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	cp $(B)/vox $(B)/vox-sim $(DESTDIR)$(BINDIR)/
	mkdir -p $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	cp man/*.1 $(DESTDIR)$(MANDIR)/man1/
	cp man/*.3 $(DESTDIR)$(MANDIR)/man3/

# ------------------------------------------------------------------ demo
demo: all
	@sh scripts/demo.sh $(B)

format:
	clang-format -i include/vox/*.h src/*.h src/*/*.c sim/*.[ch] tools/*/*.c tests/*.c tests/util/*.[ch] fuzz/*.c bench/*.c

clean:
	rm -rf $(B)

.PHONY: all deps test bench fuzz install format clean demo

# keep intermediate objects (test helpers) between runs
.SECONDARY:
