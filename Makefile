# livecdn Makefile. ./configure writes build/config.mk (compiler, library flags).
#   make            bin/livecdn and bin/livecdnctl
#   make SAN=1      the same with ASan + UBSan (objects kept apart in build/san)
#   make run        set-up, build, then an origin and an edge in the foreground
#   make check      set-up, build, unit (sanitized), fuzz and integration tests
#   make bench      benchmarks, one table of ratios
#   make install    binaries, conf, html, man under PREFIX

-include build/config.mk
PREFIX ?= /usr/local
CC ?= cc

ifeq ($(SAN),1)
OBJ := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
else
OBJ := build/obj
SANFLAGS :=
OPT := -O2
endif

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) $(SANFLAGS) -Isrc -MMD -MP \
	-DLC_PREFIX='"$(PREFIX)"' 
CFLAGS_ALL = $(CFLAGS_BASE) $(DEP_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(SANFLAGS) $(DEP_LIBS) $(LDFLAGS)

COMMON_SRC := $(sort $(shell find src/common -name '*.c'))
SERVER_SRC := $(sort $(shell find src/master src/worker src/relay src/control -name '*.c' ! -name livecdnctl.c))
CTL_SRC    := src/control/livecdnctl.c
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC  := $(sort $(wildcard bench/*.c))

COMMON_OBJ := $(COMMON_SRC:%.c=$(OBJ)/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(OBJ)/%.o)
CTL_OBJ    := $(CTL_SRC:%.c=$(OBJ)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=build/unit/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=build/bench/%)

.PHONY: all setup run check unit fuzz bench install clean man-keys clang-check

all: bin/livecdn bin/livecdnctl

build/config.mk:
	./configure

$(OBJ)/libcommon.a: $(COMMON_OBJ)
	@mkdir -p $(@D)
	@rm -f $@ && ar rcs $@ $^

$(OBJ)/%.o: %.c build/config.mk
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

# bin/ holds whichever flavour was built last; the stamp forces a relink on a switch.
build/flavour.$(notdir $(OBJ)):
	@mkdir -p build && rm -f build/flavour.* && touch $@

bin/livecdn: $(SERVER_OBJ) $(OBJ)/libcommon.a build/flavour.$(notdir $(OBJ))
	@mkdir -p bin
	@echo "  LINK    $@"
	@$(CC) -o $@ $(SERVER_OBJ) $(OBJ)/libcommon.a $(LDLIBS_ALL)

bin/livecdnctl: $(CTL_OBJ) $(OBJ)/libcommon.a build/flavour.$(notdir $(OBJ))
	@mkdir -p bin
	@echo "  LINK    $@"
	@$(CC) -o $@ $(CTL_OBJ) $(OBJ)/libcommon.a $(LDLIBS_ALL)

# Unit tests always build sanitized (make unit SAN=1 is what check runs).
unit: $(UNIT_BIN)
build/unit/%: tests/unit/%.c $(OBJ)/libcommon.a
	@mkdir -p $(@D)
	@echo "  UNIT    $@"
	@$(CC) $(CFLAGS_ALL) -o $@ $< $(UNIT_EXTRA_$*) $(OBJ)/libcommon.a -lcmocka $(LDLIBS_ALL)
# A unit test of worker logic names the (I/O-light) worker files it links here.
UNIT_EXTRA_test_pool := src/worker/transcode/pool.c
build/unit/test_pool: $(UNIT_EXTRA_test_pool)

# Fuzz targets: clang + libFuzzer over the I/O-free parsers of src/common.
FUZZ_CC := clang
# src/common is compiled once (instrumented, no main) and linked into every
# target: rebuilding it per target made `make fuzz` take minutes.
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer-no-link,address,undefined $(DEP_CFLAGS)
FUZZ_OBJ := $(COMMON_SRC:%.c=build/fuzzobj/%.o)
fuzz: $(FUZZ_BIN)
build/fuzzobj/%.o: %.c build/config.mk
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -c $< -o $@
build/fuzzobj/libcommon.a: $(FUZZ_OBJ)
	@rm -f $@ && ar rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzzobj/libcommon.a
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< build/fuzzobj/libcommon.a $(DEP_LIBS)

bench: all $(BENCH_BIN)
	bench/run

build/bench/%: bench/%.c $(OBJ)/libcommon.a
	@mkdir -p $(@D)
	@echo "  BENCH   $@"
	@$(CC) $(CFLAGS_ALL) -o $@ $< $(OBJ)/libcommon.a $(LDLIBS_ALL)

setup:
	./configure --install-deps

run: setup
	$(MAKE) all
	tests/lib/make_run.sh

# Every source must also build clean under clang (-Werror).
clang-check: build/config.mk
	@for f in $(COMMON_SRC) $(SERVER_SRC) $(CTL_SRC) $(UNIT_SRC) $(BENCH_SRC); do \
		clang -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc $(DEP_CFLAGS) -fsyntax-only $$f || exit 1; \
	done; echo "clang: all sources build clean"

check: setup
	$(MAKE) clang-check
	$(MAKE) -j2 all
	$(MAKE) -j2 SAN=1 unit
	$(MAKE) -j2 fuzz
	tests/run

# The key list of man/livecdn.conf.5 and conf/livecdn.conf come from the key table.
man-keys: bin/livecdn
	{ cat man/livecdn.conf.5.head; bin/livecdn --conf-keys=man; cat man/livecdn.conf.5.tail; } > man/livecdn.conf.5
	bin/livecdn --conf-keys=sample > conf/livecdn.conf

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/etc $(DESTDIR)$(PREFIX)/share/livecdn/html \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 bin/livecdn bin/livecdnctl $(DESTDIR)$(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/var/livecdn
	# the installed configuration names its files by absolute path
	sed -e 's|^pid = .*|pid = "$(PREFIX)/var/livecdn/livecdn.pid";|' \
	    -e 's|^error_log = .*|error_log = "$(PREFIX)/var/livecdn/error.log";|' \
	    -e 's|^  root = "html";|  root = "$(PREFIX)/share/livecdn/html";|' \
	    conf/livecdn.conf > $(DESTDIR)$(PREFIX)/etc/livecdn.conf
	chmod 644 $(DESTDIR)$(PREFIX)/etc/livecdn.conf
	cp -R html/. $(DESTDIR)$(PREFIX)/share/livecdn/html
	install -m 644 man/livecdnctl.1 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/livecdn.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 man/livecdn.8 $(DESTDIR)$(PREFIX)/share/man/man8
	install -d $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 644 man/livecdn-cdn.7 $(DESTDIR)$(PREFIX)/share/man/man7

clean:
	rm -rf build/obj build/san build/unit build/fuzz build/fuzzobj build/bench build/flavour.* bin

-include $(COMMON_OBJ:.o=.d) $(SERVER_OBJ:.o=.d) $(CTL_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
