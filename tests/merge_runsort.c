/*
 * Unit test of runsort (the sort and spill under json-merge): random
 * records with few distinct keys (many ties), sorted in memory, with one
 * spill, and with so many spills that the merge takes several passes, plus
 * a first input; every result must equal a stable reference sort.
 * Usage: merge_runsort [RECORDS]; exits 0 when every case passes.
 */
#include "runsort.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rec {
	char key[48];
	size_t keylen;
	char body[40];
	size_t bodylen;
	size_t seq;
};

struct check {
	struct rec *want;
	size_t n, i;
	int bad;
};

struct first_input {
	struct rec *recs;
	size_t n, i;
};

static int
compare_rec(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;
	size_t m = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, m);

	if (c == 0)
		c = a->keylen < b->keylen ? -1 : a->keylen > b->keylen;
	if (c == 0)
		c = a->seq < b->seq ? -1 : a->seq > b->seq;
	return c;
}

static int
emit(void *ctx, const char *record, size_t len)
{
	struct check *ck = ctx;

	if (ck->i >= ck->n || len != ck->want[ck->i].bodylen ||
	    memcmp(record, ck->want[ck->i].body, len) != 0)
		ck->bad = 1;
	ck->i++;
	return 0;
}

static int
first_next(void *ctx, const char **key, size_t *keylen, const char **record,
    size_t *reclen)
{
	struct first_input *fi = ctx;

	if (fi->i == fi->n)
		return 0;
	*key = fi->recs[fi->i].key;
	*keylen = fi->recs[fi->i].keylen;
	*record = fi->recs[fi->i].body;
	*reclen = fi->recs[fi->i].bodylen;
	fi->i++;
	return 1;
}

/* Keys shaped like sortkey.h instants of one day (the sort's radix
 * path): 13 shared bytes, then digits of any length, often repeated (ties),
 * some equal in their first 24 bytes and told apart only after them. */
static int instant_keys;

static void
make_instant_key(struct rec *r, const struct rec *prev)
{
	static const char head[] = "\xC0\x80\0\0\0\0\0\0\x0A" "1709";
	size_t len;

	if (prev != NULL && rand() % 8 == 0) {
		memcpy(r->key, prev->key, prev->keylen);
		r->keylen = prev->keylen;
		return;
	}
	memcpy(r->key, head, sizeof(head) - 1);
	len = sizeof(head) - 1 + 1 + rand() % 28;
	for (size_t k = sizeof(head) - 1; k < len; k++)
		r->key[k] = (char)('0' + (k < 26 && rand() % 4 == 0 ? 5 :
		    rand() % 10));
	r->keylen = len;
}

static void
make_rec(struct rec *r, size_t seq)
{
	/* Keys over a tiny alphabet: prefixes of each other, ties, the
	 * empty key; half share 20 bytes, so that the bytes beyond the
	 * index's 24-byte prefix decide. */
	size_t fixed = rand() % 2 ? 20 : 0;

	if (instant_keys) {
		make_instant_key(r, seq > 0 ? r - 1 : NULL);
		r->bodylen = (size_t)snprintf(r->body, sizeof(r->body), "r%zu",
		    seq);
		r->seq = seq;
		return;
	}
	r->keylen = fixed + rand() % (fixed ? 24 : 12);
	for (size_t k = 0; k < r->keylen; k++)
		r->key[k] = k < fixed ? "\x01\x80"[k % 2] :
		    "\0ab\xff"[rand() % 4];
	r->bodylen = (size_t)snprintf(r->body, sizeof(r->body), "r%zu", seq);
	r->seq = seq;
}

static int
run_case(const char *name, size_t n, size_t nfirst, size_t memory)
{
	struct rec *all = calloc(n + nfirst, sizeof(*all));
	struct rec *firsts = calloc(nfirst + 1, sizeof(*firsts));
	struct first_input fi = { firsts, nfirst, 0 };
	struct runsort_input first = { first_next, &fi };
	struct check ck = { all, n + nfirst, 0, 0 };
	struct runsort *rs = runsort_new(memory, NULL);
	int ok;

	if (all == NULL || firsts == NULL || rs == NULL) {
		perror("merge_runsort");
		exit(2);
	}
	for (size_t i = 0; i < nfirst + n; i++)
		make_rec(&all[i], i);
	/* The first input must be sorted already. */
	qsort(all, nfirst, sizeof(*all), compare_rec);
	for (size_t i = 0; i < nfirst; i++)
		all[i].seq = i;
	memcpy(firsts, all, nfirst * sizeof(*all));
	for (size_t i = nfirst; i < nfirst + n; i++)
		if (runsort_add(rs, all[i].key, all[i].keylen, all[i].body,
		    all[i].bodylen) < 0) {
			perror("runsort_add");
			exit(2);
		}
	qsort(all, n + nfirst, sizeof(*all), compare_rec);
	ok = runsort_finish(rs, nfirst ? &first : NULL, emit, &ck) == 0 &&
	    !ck.bad && ck.i == ck.n;
	printf("%s %s: %zu records, %lu runs spilled\n", ok ? "ok" : "FAIL",
	    name, n + nfirst, runsort_runs_spilled(rs));
	runsort_free(rs);
	free(all);
	free(firsts);
	return ok;
}

/* Records added after a mark and rolled back never come out; try_add
 * reports a full arena instead of spilling. */
static int
rollback_case(void)
{
	struct runsort *rs = runsort_new(64 << 10, NULL);
	struct runsort_mark mark;
	struct check ck = { NULL, 0, 0, 0 };
	struct rec kept[3];
	int ok = 1, r, tries = 0;

	for (size_t i = 0; i < 3; i++) {
		make_rec(&kept[i], i);
		kept[i].keylen = 1;
		kept[i].key[0] = (char)(3 - i);
		ok &= runsort_add(rs, kept[i].key, 1, kept[i].body,
		    kept[i].bodylen) == 0;
	}
	runsort_mark(rs, &mark);
	while ((r = runsort_try_add(rs, "", 0, "dropped", 7)) == 0)
		tries++;
	ok &= r == 1 && tries > 100 && runsort_runs_spilled(rs) == 0;
	ok &= runsort_rollback(rs, &mark) == 0;
	qsort(kept, 3, sizeof(*kept), compare_rec);
	ck.want = kept;
	ck.n = 3;
	ok &= runsort_finish(rs, NULL, emit, &ck) == 0 && !ck.bad && ck.i == 3;
	printf("%s rollback\n", ok ? "ok" : "FAIL");
	runsort_free(rs);
	return ok;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	int ok = 1;

	srand(12345);
	ok &= run_case("empty", 0, 0, 1 << 20);
	ok &= run_case("in memory", n, 0, 256 << 20);
	ok &= run_case("in memory with first input", n, n / 3, 256 << 20);
	ok &= run_case("few spills", n, 0, 1 << 20);
	ok &= run_case("multi-pass merge", n, n / 5, 64 << 10);
	instant_keys = 1;
	ok &= run_case("instants in memory", n, 0, 256 << 20);
	ok &= run_case("instants with first input", n, n / 3, 256 << 20);
	ok &= run_case("instants, few spills", n, 0, 4 << 20);
	instant_keys = 0;
	ok &= rollback_case();
	return ok ? 0 : 1;
}
