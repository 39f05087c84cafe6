#!/bin/sh
# A short run of each fuzz harness (tests/fuzz/README.md): the scanner as
# json-merge drives it (whole against fed in pieces), the sort keys, and a
# JSONL line against the array scanner.  Builds them with clang and
# libFuzzer (make fuzz-build; tests/deps.sh installs clang and
# libclang-rt-14-dev), replays every fixture of tests/fuzz/fixtures/, then
# fuzzes each for FUZZ_SMOKE_SECONDS (default 15), two at a time,
# from the seeds and the corpora that `make fuzz` keeps.  Fails on any
# crash, sanitizer report or disagreement (the crashing inputs stay in the
# test's directory); skips only when clang cannot link a libFuzzer program.
. "$LEAFPACK_TESTS/lib.sh"
not_sanitized the fuzz harnesses, built with the sanitizers of their own

: "${FUZZ_SMOKE_SECONDS:=15}"
: "${FUZZ_CC:=clang}"
need_cmd python3
command -v "$FUZZ_CC" >/dev/null 2>&1 ||
    skip "no $FUZZ_CC: tests/deps.sh installs clang and libclang-rt-14-dev"
cat >probe.c <<'PROBE'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return 0; }
PROBE
"$FUZZ_CC" -fsanitize=fuzzer,address,undefined -o probe probe.c 2>probe.err ||
    skip "$FUZZ_CC cannot link a libFuzzer program ($(head -n 1 probe.err));" \
    "tests/deps.sh installs libclang-rt-14-dev"

make -C "$LEAFPACK_TOP" -s WERROR=1 FUZZ_CC="$FUZZ_CC" fuzz-build \
    >make.out 2>&1 || {
	tail -n 20 make.out >&2
	fail "make fuzz-build"
}
# Two at a time, one per core: make check's time is what they cost.
FUZZ_WORK=$TEST_WORK sh "$LEAFPACK_TESTS/fuzz/run.sh" "$FUZZ_SMOKE_SECONDS" \
    scan >report.scan 2>&1 &
first=$!
FUZZ_WORK=$TEST_WORK sh "$LEAFPACK_TESTS/fuzz/run.sh" "$FUZZ_SMOKE_SECONDS" \
    sortkey line >report.rest 2>&1
status=$?
wait "$first" || status=1
cat report.scan report.rest
[ $status -eq 0 ] || fail "a fuzz harness failed; make each NAME-crash-* here a" \
    "fixture: python3 tests/fuzz/fixture.py encode WHY <CRASH" \
    ">tests/fuzz/fixtures/NAME-WHAT.txt"
