/*
 * scanstate.c - the end of the scan when memory runs out (scanstate.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "diag.h"
#include "exitcode.h"
#include "scanstate.h"

/* Out of memory ends the scan: there is nothing to save but the queue. */
void __attribute__((noreturn))
out_of_memory(void)
{
	errno = ENOMEM;
	diag_err(EXITCODE_FAILED, "out of memory");
}

/* Zeroed memory, or the end of the scan. */
void *
scan_alloc(size_t size)
{
	void *p = calloc(1, size);

	if (p == NULL)
		out_of_memory();
	return p;
}

void
scan_reserve(struct buf *b, size_t more)
{
	if (buf_reserve(b, more) < 0)
		out_of_memory();
}

void
scan_append(struct buf *b, const void *data, size_t len)
{
	if (buf_append(b, data, len) < 0)
		out_of_memory();
}
