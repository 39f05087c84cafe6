/*
 * write_journal_unit - unit tests of the journal module (journal.h): the
 * stream hash does not depend on chunking, names of any bytes survive a
 * store and load, malformed journals are refused, the claim is exclusive,
 * the absorbed-sources rule, holders' liveness and stale temporaries.
 * Runs in the current directory; prints each failure, exits 1 if any.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "claim.h"
#include "journal.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, \
		    #cond); \
		failures++; \
	} \
} while (0)

static void
test_hash(void)
{
	unsigned char data[200];
	struct journal_hash whole, parts;
	unsigned long long lines = 0;
	uint64_t h;

	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (unsigned char)(i * 37 + 11);
		if (i % 50 == 49)
			data[i] = '\n';
		lines += data[i] == '\n';
	}
	journal_hash_init(&whole);
	journal_hash_update(&whole, data, sizeof(data));
	h = journal_hash_final(&whole);
	CHECK(whole.records == lines && whole.bytes == sizeof(data));
	/* The value journals on disk hold: the algorithm must not change
	 * without a new journal version. */
	CHECK(h == 0x813e2ecce6aef85aULL);
	for (size_t step = 1; step <= 17; step++) {
		journal_hash_init(&parts);
		for (size_t off = 0; off < sizeof(data); off += step)
			journal_hash_update(&parts, data + off,
			    off + step > sizeof(data) ? sizeof(data) - off : step);
		CHECK(journal_hash_final(&parts) == h);
		CHECK(parts.records == lines && parts.bytes == sizeof(data));
	}
	/* One byte changed, or one byte less: another hash. */
	data[77] ^= 1;
	journal_hash_init(&parts);
	journal_hash_update(&parts, data, sizeof(data));
	CHECK(journal_hash_final(&parts) != h);
	data[77] ^= 1;
	journal_hash_init(&parts);
	journal_hash_update(&parts, data, sizeof(data) - 1);
	CHECK(journal_hash_final(&parts) != h);
	/* Trailing zero bytes are not lost in the padding. */
	journal_hash_init(&whole);
	journal_hash_update(&whole, "ab", 2);
	journal_hash_init(&parts);
	journal_hash_update(&parts, "ab\0", 3);
	CHECK(journal_hash_final(&whole) != journal_hash_final(&parts));
}

/* Newlines are counted a word at a time: dense ones, and bytes that
 * differ from '\n' by one bit, in any cutting. */
static void
test_hash_records(void)
{
	static const unsigned char pattern[] = { '\n', 0x0b, 0x8a, 0x0a, 0x00,
	    0xff, 0x09, '\n', '\n', 0x4a, 0x0e };
	unsigned char data[5000];
	struct journal_hash whole, parts;
	unsigned long long lines = 0;
	uint64_t h;

	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = pattern[(i * 7 + i / 3) % sizeof(pattern)];
		lines += data[i] == '\n';
	}
	journal_hash_init(&whole);
	journal_hash_update(&whole, data, sizeof(data));
	h = journal_hash_final(&whole);
	CHECK(whole.records == lines);
	for (size_t step = 1; step <= 4096; step = step * 3 + 1) {
		journal_hash_init(&parts);
		for (size_t off = 0; off < sizeof(data); off += step)
			journal_hash_update(&parts, data + off,
			    off + step > sizeof(data) ? sizeof(data) - off : step);
		CHECK(parts.records == lines && journal_hash_final(&parts) == h);
	}
	memset(data, '\n', sizeof(data));
	journal_hash_init(&whole);
	journal_hash_update(&whole, data, sizeof(data));
	CHECK(whole.records == sizeof(data));
}

static void
test_classify(void)
{
	long long pid = 0;

	CHECK(journal_classify("out.jsonl", "out.jsonl", NULL) ==
	    JOURNAL_FILE_OUTPUT);
	CHECK(journal_classify(".out.jsonl.journal", "out.jsonl", NULL) ==
	    JOURNAL_FILE_JOURNAL);
	CHECK(journal_classify(".out.jsonl.tmp.123.abc", "out.jsonl", &pid) ==
	    JOURNAL_FILE_TEMP && pid == 123);
	CHECK(journal_classify(".out.jsonl.journal.tmp.9.x", "out.jsonl",
	    &pid) == JOURNAL_FILE_TEMP && pid == 9);
	CHECK(journal_classify(".out.jsonl.tmp.", "out.jsonl", NULL) ==
	    JOURNAL_FILE_OTHER);
	CHECK(journal_classify(".out.jsonl.tmp.12", "out.jsonl", NULL) ==
	    JOURNAL_FILE_OTHER);
	CHECK(journal_classify(".out.jsonl.tmp.x.1", "out.jsonl", NULL) ==
	    JOURNAL_FILE_OTHER);
	CHECK(journal_classify("a.txt", "out.jsonl", NULL) ==
	    JOURNAL_FILE_OTHER);
	CHECK(journal_classify(".other.journal", "out.jsonl", NULL) ==
	    JOURNAL_FILE_OTHER);
}

static int
count_entries(const char *prefix)
{
	char cmd[256];
	FILE *p;
	int n = 0, c;

	snprintf(cmd, sizeof(cmd), "ls -a | grep -c '^%s' || true", prefix);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	while ((c = fgetc(p)) != EOF)
		;
	pclose(p);
	return n;
}

static void
write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) == EOF) {
		perror(name);
		exit(1);
	}
}

/* True when the lists hold the same entries in the same order: names and
 * identities, and the owners when with_owner (else a's are 0). */
static bool
same_entries(const struct spill *a, const struct spill *b, bool with_owner)
{
	struct spill_cursor ca, cb;
	struct journal_entry ea, eb;
	bool same = true;
	int ra, rb;

	spill_cursor_init(&ca, a);
	spill_cursor_init(&cb, b);
	while (same) {
		ra = journal_entries_next(&ca, &ea);
		rb = journal_entries_next(&cb, &eb);
		if (ra != rb || ra < 0)
			same = false;
		if (ra != 1 || rb != 1)
			break;
		same = strcmp(ea.name, eb.name) == 0 &&
		    journal_identity_equal(&ea.id, &eb.id) && (with_owner ?
		    ea.mode == eb.mode && ea.uid == eb.uid && ea.gid == eb.gid :
		    ea.mode == 0 && ea.uid == 0 && ea.gid == 0);
	}
	spill_cursor_free(&ca);
	spill_cursor_free(&cb);
	return same;
}

/* True when list holds n entries, each name after the one before. */
static bool
sorted_whole(const struct spill *list, size_t n)
{
	struct spill_cursor c;
	struct journal_entry e;
	char prev[64] = "";
	bool sorted = true;
	size_t seen = 0;
	int r;

	spill_cursor_init(&c, list);
	while ((r = journal_entries_next(&c, &e)) == 1) {
		sorted &= strcmp(prev, e.name) < 0;
		snprintf(prev, sizeof(prev), "%s", e.name);
		seen++;
	}
	spill_cursor_free(&c);
	return sorted && r == 0 && seen == n;
}

/* A list bigger than its memory goes to a file and comes back whole, in
 * order; sorted in memory and through runs; read by two readers at once;
 * looked up by a walk asked in order and out of it. */
static void
test_spill(void)
{
	enum { N = 20000 };
	struct spill list = { 0 }, small = { 0 };
	struct spill_cursor c, c2;
	struct claim_walk w = { 0 };
	struct journal_entry e;
	struct stat st;
	char name[64];
	size_t n = 0;
	int r;

	CHECK(stat(".", &st) == 0);
	for (size_t i = 0; i < N; i++) {
		/* Not in order: i * 7919 mod N visits every i once. */
		snprintf(name, sizeof(name), "src-%08zu.txt", i * 7919 % N);
		journal_entry_from_stat(&e, name, &st);
		e.id.ino = i * 7919 % N;
		CHECK(journal_entries_add(&list, &e) == 0);
		if (i < 50)
			CHECK(journal_entries_add(&small, &e) == 0);
	}
	CHECK(list.count == N && list.spilled && !small.spilled);
	CHECK(list.mem.cap <= 2 * SPILL_MEMORY);
	spill_cursor_init(&c, &list);
	spill_cursor_init(&c2, &list);
	for (size_t i = 0; (r = journal_entries_next(&c, &e)) == 1; i++) {
		snprintf(name, sizeof(name), "src-%08zu.txt", i * 7919 % N);
		CHECK(strcmp(e.name, name) == 0 && e.id.ino == i * 7919 % N);
		if (i % 3 == 0)
			CHECK(journal_entries_next(&c2, &e) == 1);
		n++;
	}
	CHECK(r == 0 && n == N);
	spill_cursor_free(&c);
	spill_cursor_free(&c2);
	CHECK(journal_entries_sort(&list) == 0 && list.count == N);
	CHECK(journal_entries_sort(&small) == 0 && small.count == 50);
	CHECK(sorted_whole(&list, N));
	/* The walk: in order, then back to the start, then an absent name,
	 * then a known name with another identity. */
	for (size_t i = 0; i < N; i += 97) {
		snprintf(name, sizeof(name), "src-%08zu.txt", i);
		st.st_ino = i;
		CHECK(claim_entries_hold(&list, &w, name, &st) == 1);
	}
	snprintf(name, sizeof(name), "src-%08d.txt", 3);
	st.st_ino = 3;
	CHECK(claim_entries_hold(&list, &w, name, &st) == 1);
	CHECK(claim_entries_hold(&list, &w, name, &st) == 1);
	CHECK(claim_entries_hold(&list, &w, "src-00000003.txu", &st) == 0);
	snprintf(name, sizeof(name), "src-%08d.txt", 4);
	CHECK(claim_entries_hold(&list, &w, name, &st) == 0);
	st.st_ino = 4;
	CHECK(claim_entries_hold(&list, &w, name, &st) == 1);
	claim_walk_free(&w);
	spill_free(&list);
	spill_free(&small);

	/* No $TMPDIR to spill to: the list stays in memory, whole. */
	char *was = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;

	CHECK(setenv("TMPDIR", "/nonexistent/leafpack-unit", 1) == 0);
	for (size_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "src-%08zu.txt", (N - 1 - i));
		journal_entry_from_stat(&e, name, &st);
		CHECK(journal_entries_add(&list, &e) == 0);
	}
	CHECK(list.count == N && !list.spilled && list.stuck);
	CHECK(journal_entries_sort(&list) == 0);
	CHECK(sorted_whole(&list, N));
	spill_free(&list);
	if (was != NULL)
		setenv("TMPDIR", was, 1);
	else
		unsetenv("TMPDIR");
	free(was);
}

static void
test_store_load(void)
{
	static const char *const names[] = {
		"plain.txt", "new\nline.txt", "quote\"\\.txt", "\xff\xfe.txt",
		"t\xc3\xa9st.txt",
	};
	struct journal j, back;
	struct journal_entry e;
	struct stat st;

	CHECK(journal_init(&j) == 0);
	CHECK(stat(".", &st) == 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		journal_entry_from_stat(&e, names[i], &st);
		e.id.ino = 1000 + i;
		CHECK(journal_entries_add(i % 2 ? &j.kept : &j.sources,
		    &e) == 0);
	}
	j.state = JOURNAL_COMMITTED;
	j.has_base = 1;
	j.base.ino = 18446744073709551000ULL;
	j.base.size = 12345;
	j.base.mtime_ns = 1700000000123456789LL;
	j.output_ino = 42;
	j.records = 7;
	j.bytes = 99;
	j.hash = 0xfedcba9876543210ULL;
	/* Durable: the directory must be a real descriptor to fsync. */
	int dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(journal_store(dirfd, "o.jsonl", &j, 1) == 0);
	close(dirfd);
	CHECK(count_entries(".o.jsonl.journal.tmp") == 0);
	CHECK(journal_load(AT_FDCWD, "o.jsonl", &back) == 1);
	CHECK(back.state == JOURNAL_COMMITTED && back.pid == j.pid &&
	    strcmp(back.host, j.host) == 0);
	CHECK(back.has_base && journal_identity_equal(&back.base, &j.base));
	CHECK(back.output_ino == 42 && back.records == 7 && back.bytes == 99 &&
	    back.hash == j.hash);
	CHECK(back.kept.count == j.kept.count &&
	    back.sources.count == j.sources.count);
	/* A committed journal leaves the owner out. */
	CHECK(same_entries(&back.sources, &j.sources, false));
	CHECK(same_entries(&back.kept, &j.kept, false));
	journal_free(&back);

	/* A merged one keeps it: the commit gives the output the first
	 * source's mode and owner. */
	j.state = JOURNAL_MERGED;
	CHECK(journal_store(AT_FDCWD, "o.jsonl", &j, 0) == 0);
	CHECK(journal_load(AT_FDCWD, "o.jsonl", &back) == 1);
	CHECK(back.state == JOURNAL_MERGED &&
	    back.sources.count == j.sources.count);
	CHECK(same_entries(&back.sources, &j.sources, true));
	journal_free(&back);
	j.state = JOURNAL_COMMITTED;

	/* No base: null, and back. */
	j.has_base = 0;
	CHECK(journal_store(AT_FDCWD, "o.jsonl", &j, 0) == 0);
	CHECK(journal_load(AT_FDCWD, "o.jsonl", &back) == 1 && !back.has_base);
	journal_free(&back);

	/* The claim is exclusive, and leaves no temporary either way. */
	CHECK(journal_create(AT_FDCWD, "o.jsonl", &j) == -1 && errno == EEXIST);
	CHECK(journal_create(AT_FDCWD, "p.jsonl", &j) == 0);
	CHECK(journal_load(AT_FDCWD, "p.jsonl", &back) == 1);
	journal_free(&back);
	CHECK(count_entries(".o.jsonl.journal.tmp") == 0 &&
	    count_entries(".p.jsonl.journal.tmp") == 0);
	CHECK(journal_remove(AT_FDCWD, "p.jsonl") == 0);
	CHECK(journal_load(AT_FDCWD, "p.jsonl", &back) == 0);
	journal_free(&back);
	journal_free(&j);

	/* Malformed journals. */
	static const char *const bad[] = {
		"", "not json", "{}", "[]",
		"{\"version\":2,\"state\":\"merged\"}",
		"{\"version\":1,\"state\":\"done\",\"holder\":{\"host\":\"h\","
		"\"pid\":1},\"base\":null,\"output_ino\":0,\"kept\":[],"
		"\"sources\":[],\"records\":0,\"bytes\":0,\"hash\":\"0\"}",
		"{\"version\":1,\"state\":\"merged\",\"holder\":{\"host\":\"h\","
		"\"pid\":1},\"base\":null,\"output_ino\":0,\"kept\":[],"
		"\"sources\":[{\"name_hex\":\"6g\",\"ino\":1,\"size\":1,"
		"\"mtime_ns\":1,\"mode\":1,\"uid\":0,\"gid\":0}],\"records\":0,"
		"\"bytes\":0,\"hash\":\"0\"}",
		"{\"version\":1,\"state\":\"merged\",\"holder\":{\"host\":\"h\","
		"\"pid\":1},\"base\":null,\"output_ino\":0,\"kept\":[],"
		"\"sources\":[],\"records\":0,\"bytes\":0,\"hash\":\"0\"} x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(".bad.journal", bad[i]);
		errno = 0;
		CHECK(journal_load(AT_FDCWD, "bad", &back) == -1 &&
		    errno == EBADMSG);
	}
}

/* Makes a file NAME and adds its entry to list. */
static void
make_source(const char *name, struct spill *list)
{
	struct journal_entry e;
	struct stat st;

	write_file(name, "[1]");
	if (stat(name, &st) == -1) {
		perror(name);
		exit(1);
	}
	journal_entry_from_stat(&e, name, &st);
	CHECK(journal_entries_add(list, &e) == 0);
}

/* The name of the first entry of list, or "" when it is empty. */
static const char *
first_name(const struct spill *list)
{
	static char name[64];
	struct spill_cursor c;
	struct journal_entry e;

	spill_cursor_init(&c, list);
	snprintf(name, sizeof(name), "%s",
	    journal_entries_next(&c, &e) == 1 ? e.name : "");
	spill_cursor_free(&c);
	return name;
}

/* The state journal_load() finds in .c.jsonl.journal holding the len bytes
 * at text: -1 when it refuses it. */
static int
state_of(const char *text, size_t len)
{
	struct journal back;
	FILE *f = fopen(".c.jsonl.journal", "w");
	int state;

	if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) == EOF) {
		perror(".c.jsonl.journal");
		exit(1);
	}
	if (journal_load(AT_FDCWD, "c.jsonl", &back) != 1)
		return -1;
	state = (int)back.state;
	journal_free(&back);
	return state;
}

/* Marking a claim merged adds a line to its file (no new inode); a reader
 * takes the last whole line, so a line cut short anywhere leaves the claim
 * as it was. */
static void
test_append(void)
{
	struct journal j, back;
	struct journal_held f;
	struct stat before, after;
	char text[8192];
	size_t len, first;
	FILE *in;

	CHECK(journal_init(&j) == 0);
	CHECK(journal_create(AT_FDCWD, "a.jsonl", &j) == 0);
	CHECK(stat(".a.jsonl.journal", &before) == 0);
	CHECK(journal_open(AT_FDCWD, "a.jsonl", &back, &f) == 1 &&
	    f.fd >= 0 && back.state == JOURNAL_MERGING);
	journal_free(&back);
	j.state = JOURNAL_MERGED;
	make_source("s1.txt", &j.sources);
	j.records = 3;
	j.bytes = 30;
	j.hash = 0x1234;
	CHECK(journal_append(&f, &j) == 0 && f.fd == -1);
	CHECK(stat(".a.jsonl.journal", &after) == 0 &&
	    after.st_ino == before.st_ino && after.st_size > before.st_size);
	CHECK(journal_load(AT_FDCWD, "a.jsonl", &back) == 1 &&
	    back.state == JOURNAL_MERGED && back.records == 3 &&
	    back.hash == 0x1234 && back.sources.count == 1);
	CHECK(same_entries(&back.sources, &j.sources, true));
	journal_free(&back);
	/* Nothing to open: 0, and nothing held. */
	CHECK(journal_open(AT_FDCWD, "none.jsonl", &back, &f) == 0 &&
	    f.fd == -1);
	journal_free(&back);
	journal_held_close(&f);

	in = fopen(".a.jsonl.journal", "r");
	len = in == NULL ? 0 : fread(text, 1, sizeof(text), in);
	if (in != NULL)
		fclose(in);
	first = (size_t)((char *)memchr(text, '\n', len) - text) + 1;
	CHECK(len > first && len + 20 < sizeof(text) && text[len - 1] == '\n');
	CHECK(state_of(text, len) == JOURNAL_MERGED);
	CHECK(state_of(text, len - 1) == JOURNAL_MERGED);
	for (size_t cut = first; cut < len - 1; cut++)
		if (state_of(text, cut) != JOURNAL_MERGING) {
			fprintf(stderr, "cut at %zu of %zu: not merging\n",
			    cut, len);
			failures++;
			break;
		}
	/* A third line cut short: the second holds. */
	memcpy(text + len, text + first, 20);
	CHECK(state_of(text, len + 20) == JOURNAL_MERGED);
	/* A share that shows the later line's bytes before they arrive. */
	memset(text + first + 5, 0, len - first - 5);
	CHECK(state_of(text, len) == JOURNAL_MERGING);
	/* Not a line a holder writes: refused. */
	text[first] = 'x';
	CHECK(state_of(text, first + 1) == -1 && errno == EBADMSG);
	journal_free(&j);
	unlink(".a.jsonl.journal");
	unlink(".c.jsonl.journal");
	unlink("s1.txt");
}

static void
test_absorbed(void)
{
	struct journal j;
	struct spill out;
	struct stat st;

	journal_init(&j);
	make_source("k2.txt", &j.kept);
	make_source("k1.txt", &j.kept);
	make_source("s1.txt", &j.sources);
	write_file("a.jsonl", "1\n");
	stat("a.jsonl", &st);

	/* Committed, and the output is the committed one: kept + sources,
	 * sorted by name. */
	j.state = JOURNAL_COMMITTED;
	j.output_ino = st.st_ino;
	CHECK(claim_absorbed(AT_FDCWD, "a.jsonl", &j, &out) == 0 &&
	    out.count == 3 && strcmp(first_name(&out), "k1.txt") == 0);
	spill_free(&out);
	/* A changed source no longer counts. */
	write_file("k1.txt", "[1,2]");
	CHECK(claim_absorbed(AT_FDCWD, "a.jsonl", &j, &out) == 0 &&
	    out.count == 2 && strcmp(first_name(&out), "k2.txt") == 0);
	spill_free(&out);
	/* Not the committed output but the base: kept only. */
	j.output_ino = st.st_ino + 1;
	j.has_base = 1;
	journal_identity_from_stat(&j.base, &st);
	CHECK(claim_absorbed(AT_FDCWD, "a.jsonl", &j, &out) == 0 &&
	    out.count == 1);
	spill_free(&out);
	/* A claim (not committed) reading this output: kept too. */
	j.state = JOURNAL_MERGED;
	j.output_ino = st.st_ino;
	CHECK(claim_absorbed(AT_FDCWD, "a.jsonl", &j, &out) == 0 &&
	    out.count == 1);
	spill_free(&out);
	/* Neither: none; no output: none; no journal: none. */
	j.base.ino = st.st_ino + 1;
	CHECK(claim_absorbed(AT_FDCWD, "a.jsonl", &j, &out) == 0 &&
	    out.count == 0);
	CHECK(claim_absorbed(AT_FDCWD, "missing.jsonl", &j, &out) == 0 &&
	    out.count == 0);
	CHECK(claim_absorbed(AT_FDCWD, "a.jsonl", NULL, &out) == 0 &&
	    out.count == 0);
	journal_free(&j);
}

static void
test_holders(void)
{
	struct journal j;
	pid_t child;
	char name[64];

	journal_init(&j);
	CHECK(!claim_holder_alive(&j));	/* ours */
	CHECK(claim_is_ours(&j));
	j.pid = 1;
	CHECK(claim_holder_alive(&j));
	CHECK(!claim_is_ours(&j));
	j.state = JOURNAL_COMMITTED;
	CHECK(!claim_holder_alive(&j));
	j.state = JOURNAL_MERGED;
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	j.pid = child;
	CHECK(!claim_holder_alive(&j));
	free(j.host);
	j.host = strdup("some-other-host.invalid");
	j.file_mtime_ns = 0;
	CHECK(!claim_holder_alive(&j));	/* older than an hour */
	j.file_mtime_ns = (long long)time(NULL) * 1000000000LL;
	CHECK(claim_holder_alive(&j));
	journal_free(&j);

	/* Stale temporaries: the dead child's go, ours and init's stay. */
	snprintf(name, sizeof(name), ".x.jsonl.tmp.%ld.a", (long)child);
	write_file(name, "");
	snprintf(name, sizeof(name), ".x.jsonl.journal.tmp.%ld.b", (long)child);
	write_file(name, "");
	snprintf(name, sizeof(name), ".x.jsonl.tmp.%ld.c", (long)getpid());
	write_file(name, "");
	write_file(".x.jsonl.tmp.1.d", "");
	CHECK(claim_remove_dead_temps(AT_FDCWD, "x.jsonl") == 2);
	CHECK(count_entries(".x.jsonl") == 2);
}

int
main(void)
{
	test_hash();
	test_hash_records();
	test_classify();
	test_spill();
	test_store_load();
	test_append();
	test_absorbed();
	test_holders();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
