# leafpack - consolidate many small JSON files into one JSONL file per leaf.
#
#   make               build the programs into bin/
#   make check         install missing packages, build with -Werror, run every
#                      test, then run them again under ASan and UBSan
#   make demo          consolidate a generated demo tree, before and after
#   make bench         benchmarks against the peers (LARGE=1 for full size)
#   make crash         the crash tests at every system call (minutes)
#   make long          every test in its long form (most of an hour)
#   make check-valgrind  the tests under valgrind's memcheck (an hour or more)
#   make fuzz          the fuzz harnesses, FUZZ_SECONDS each (default 60)
#   make lint          cppcheck, clang-tidy (.clang-tidy), scan-build, shellcheck
#   make install       PREFIX=/usr/local MANPREFIX=$(PREFIX)/share/man DESTDIR=
#   make clean

VERSION = 0.1.0

PREFIX ?= /usr/local
MANPREFIX ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config

# Where objects and programs go; the sanitizer build uses other directories.
BUILD ?= build/release
BINDIR ?= bin

WARNINGS = -Wall -Wextra -Wshadow -Wno-unused-parameter
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

JSONC_CFLAGS := $(shell $(PKG_CONFIG) --cflags json-c 2>/dev/null)
JSONC_LIBS := $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null || echo -ljson-c)
FUSE_CFLAGS := $(shell $(PKG_CONFIG) --cflags fuse3 2>/dev/null)
FUSE_LIBS := $(shell $(PKG_CONFIG) --libs fuse3 2>/dev/null || echo -lfuse3)

INCLUDES = -Isrc/lib -Isrc/pack -Isrc/scan -Isrc/merge -Isrc/write
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DLEAFPACK_VERSION='"$(VERSION)"' \
	$(INCLUDES) $(WARNINGS) $(JSONC_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDLIBS = $(JSONC_LIBS) -lm $(LDLIBS)

PROGS := $(patsubst src/%.c,%,$(wildcard src/*.c))
BINS := $(addprefix $(BINDIR)/,$(PROGS))
LIBSRC := $(wildcard src/lib/*.c)
LIBOBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(LIBSRC))
# A program's own modules, linked into it only: the driver's in src/pack/,
# tree-scan's in src/scan/, json-merge's in src/merge/, jsonl-write's in
# src/write/.
PACKSRC := $(wildcard src/pack/*.c)
PACKOBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(PACKSRC))
SCANOBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/scan/*.c))
MERGEOBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/merge/*.c))
WRITEOBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/write/*.c))
MANS := $(wildcard man/*.1)

# Helpers the tests and benchmarks run: not installed, never sanitized.
TESTPROGS := $(patsubst tests/%.c,tests/bin/%,$(wildcard tests/*.c))
BENCHPROGS := $(patsubst bench/%.c,bench/bin/%,$(wildcard bench/*.c))

.PHONY: all tests check check-deps check-build check-man check-shell \
	check-asan check-valgrind lint test \
	demo bench install uninstall clean
.DELETE_ON_ERROR:
# Objects are built by pattern rules only; keep them between builds.
.SECONDARY:

all: $(BINS)

$(BUILD)/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BINDIR)/leafpack: $(BUILD)/leafpack.o $(PACKOBJ) $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PACKOBJ) $(LIBOBJ) $(ALL_LDLIBS)

$(BINDIR)/tree-scan: $(BUILD)/tree-scan.o $(SCANOBJ) $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(SCANOBJ) $(LIBOBJ) $(ALL_LDLIBS)

$(BINDIR)/json-merge: $(BUILD)/json-merge.o $(MERGEOBJ) $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(MERGEOBJ) $(LIBOBJ) $(ALL_LDLIBS)

$(BINDIR)/jsonl-write: $(BUILD)/jsonl-write.o $(WRITEOBJ) $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(WRITEOBJ) $(LIBOBJ) $(ALL_LDLIBS)

$(BINDIR)/%: $(BUILD)/%.o $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(ALL_LDLIBS)

tests: $(TESTPROGS) $(BENCHPROGS)

tests/bin/stallfs: tests/stallfs.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(FUSE_CFLAGS) -O2 -g \
		-o $@ $< $(FUSE_LIBS)

tests/bin/%: tests/%.c $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(ALL_LDLIBS)

bench/bin/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) -O2 -o $@ $<

# The test command of the README: everything a fresh machine needs, then
# every test, then every test again under the sanitizers, TEST_JOBS tests
# at a time (tests/run.sh: most of a test's time is waiting).
TEST_JOBS ?= 2
export TEST_JOBS
check: check-deps
	$(MAKE) WERROR=1 all tests
	$(MAKE) check-man
	$(MAKE) lint
	sh tests/run.sh
	$(MAKE) check-asan

check-deps:
	sh tests/deps.sh

check-man:
	@for m in $(MANS); do \
		out=$$(mandoc -Tlint -W warning $$m 2>&1); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	done; echo "mandoc -Tlint: $(words $(MANS)) man pages clean"

# The test and benchmark scripts in the POSIX sh dialect; -x with
# SCRIPTDIR follows the helpers they source from tests/ and tests/lib/.
SHELLSCRIPTS := $(wildcard tests/*.sh tests/lib/*.sh bench/*.sh)
check-shell:
	shellcheck -s sh -x -P SCRIPTDIR $(SHELLSCRIPTS)
	@echo "shellcheck: $(words $(SHELLSCRIPTS)) scripts clean"

# Static checks: cppcheck's warning, portability and performance classes
# (its style class here is all variableScope and the like, against the
# declarations-first style of this code), clang-tidy with the checks of
# .clang-tidy (each exclusion explained there; one file per process, two at
# a time), the clang static analyzer through scan-build over a build of its
# own, and shellcheck.  Every finding fails it.  scan-build leaves out
# deadcode.DeadStores: its only finding is a defensive initialisation in
# jsonscan.c that clang-tidy's run of the same checker is told about
# (NOLINT there, with the reason).
CLANG_TIDY ?= clang-tidy
CPPCHECK ?= cppcheck
SCAN_BUILD ?= scan-build
LINTSRC = $(wildcard src/*.c src/*/*.c)
lint:
	$(CPPCHECK) --quiet --enable=warning,portability,performance \
		--std=c11 -D_GNU_SOURCE $(INCLUDES) --inline-suppr \
		--error-exitcode=1 src
	@echo "cppcheck: clean"
	printf '%s\n' $(LINTSRC) | xargs -P 2 -n 4 sh -c '$(CLANG_TIDY) \
		--quiet "$$@" -- -std=c11 -D_GNU_SOURCE $(INCLUDES) \
		$(JSONC_CFLAGS) 2>/dev/null' clang-tidy
	@echo "clang-tidy: $(words $(LINTSRC)) files clean"
	rm -rf build/scan
	$(SCAN_BUILD) --status-bugs -disable-checker deadcode.DeadStores \
		-o build/scan/report $(MAKE) -s -j2 BUILD=build/scan/obj \
		BINDIR=build/scan/bin all
	@echo "scan-build: clean"
	$(MAKE) check-shell

check-asan:
	$(MAKE) WERROR=1 SANITIZE=1 BUILD=build/asan BINDIR=build/asan/bin all
	LEAFPACK_BIN=$(CURDIR)/build/asan/bin LEAFPACK_SANITIZED=1 sh tests/run.sh

# The tests under valgrind memcheck, every process of leafpack's (no error,
# no leak); those that time deadlines or kill points are left out
# (tests/valgrind.sh).  Not part of check: valgrind runs 10-50x slower.
check-valgrind: all tests
	sh tests/valgrind.sh

# Runs the tests on what is built, without installing or rebuilding.
test: all tests
	sh tests/run.sh $(TESTS)

# tests/crash_pair.sh, tests/crash_stream.sh and tests/crash_staging.sh at
# every system call of both programs (minutes).
.PHONY: crash long
crash: all tests
	LEAFPACK_LONG=1 TEST_TIMEOUT=3600 sh tests/run.sh crash_pair crash_stream \
	    crash_staging

# Every test in its long form: every kill point, every stall of every way,
# the test hosts' own test (most of an hour).
long: all tests
	LEAFPACK_LONG=1 TEST_TIMEOUT=3600 sh tests/run.sh

# Fuzzing (tests/fuzz/README.md): the libFuzzer harnesses, built with clang
# into build/fuzz/, each run FUZZ_SECONDS on its corpus build/fuzz/corpus-NAME
# (kept between runs) after replaying the fixtures of tests/fuzz/fixtures/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD = build/fuzz
FUZZ_NAMES = scan sortkey line
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -Isrc/lib $(WARNINGS) -O1 -g \
	-fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -MMD -MP
FUZZ_OBJ = $(patsubst %,$(FUZZ_BUILD)/lib/%.o,jsonscan jsonscanarray sortkey alloc) \
	$(FUZZ_BUILD)/check.o
FUZZ_BINS = $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-build
fuzz: fuzz-build tests
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-build: $(FUZZ_BINS)

# Static pattern rules: the .d files under build/ are included, and a plain
# pattern would offer to remake fuzz_scan.d as a harness.
$(filter $(FUZZ_BUILD)/lib/%,$(FUZZ_OBJ)): $(FUZZ_BUILD)/lib/%.o: src/lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/check.o: tests/fuzz/check.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_BUILD)/fuzz_%: tests/fuzz/harness.c $(FUZZ_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_NAME=$* -o $@ $< \
		$(FUZZ_OBJ)

# The unit tests compile the checks in, to replay the fixtures.
tests/bin/unit_jsonscan tests/bin/unit_sortkey: tests/fuzz/check.c \
	tests/fuzz/fixture.c tests/fuzz/check.h

# Both install what a fresh machine lacks first, as check does (bench also
# its peers), then build in a make that reads the Makefile again, with the
# packages present.
demo:
	sh tests/deps.sh
	$(MAKE) all tests
	sh tests/demo.sh

bench:
	sh tests/deps.sh bench
	$(MAKE) all tests
	sh bench/run.sh $(if $(FULL),--full) $(if $(LARGE),--large)

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1
	for p in $(PROGS); do \
		install -m 755 $(BINDIR)/$$p $(DESTDIR)$(PREFIX)/bin/$$p; done
	for m in $(MANS); do \
		install -m 644 $$m $(DESTDIR)$(MANPREFIX)/man1/; done

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$p; done
	for m in $(MANS); do \
		rm -f $(DESTDIR)$(MANPREFIX)/man1/$$(basename $$m); done

clean:
	rm -rf build tests/bin bench/bin
	rm -f $(BINS)

-include $(shell find build -name '*.d' 2>/dev/null)
