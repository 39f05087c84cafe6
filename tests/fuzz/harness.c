/*
 * harness.c - the libFuzzer entry point of every harness: built once per
 * check of check.h with -DFUZZ_NAME=scan, sortkey or line (make fuzz), it
 * runs fuzzcheck_NAME() on each input and aborts, so that libFuzzer keeps
 * the input as a crash, when a property does not hold.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

#ifndef FUZZ_NAME
#error "build with -DFUZZ_NAME=scan, sortkey or line"
#endif
#define PASTE(a, b) a##b
#define CHECK_OF(name) PASTE(fuzzcheck_, name)
#define STRING(x) #x
#define NAME_OF(name) STRING(name)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = CHECK_OF(FUZZ_NAME)(data, size);

	if (why != NULL) {
		fprintf(stderr, "fuzz_%s: %s\n", NAME_OF(FUZZ_NAME), why);
		abort();
	}
	return 0;
}
