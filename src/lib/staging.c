/*
 * staging.c - a share with no free inode (see staging.h).
 */
#include "staging.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "diag.h"
#include "fileid.h"
#include "share.h"
#include "watch.h"
#include "xstd.h"

void
staging_format_count(char *buf, size_t size, unsigned long long n)
{
	char digits[32], out[48];
	size_t len, k = 0;

	snprintf(digits, sizeof(digits), "%llu", n);
	len = strlen(digits);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = digits[i];
	}
	out[k] = '\0';
	snprintf(buf, size, "%s", out);
}

bool
staging_out_of_inodes(int dirfd, const char *dir, bool *no_inodes,
    unsigned long long *total)
{
	if (!share_out_of_inodes(dirfd, NULL, total))
		return false;
	*no_inodes = true;
	if (!watch_attached())
		staging_warn_no_inodes(dir, *total);
	return true;
}

void
staging_warn_no_inodes(const char *path, unsigned long long total)
{
	char count[48];
	int indent = (int)strlen(diag_progname()) + 2;

	staging_format_count(count, sizeof(count), total);
	diag_warnx("%s: no free inodes (0 of %s): nothing can be created "
	    "there;\n%*srun with --staging DIR, a directory on another file "
	    "system with room for one leaf", diag_quote(path), count, indent,
	    "");
}

/* ---- the entry ---- */

int
staging_entry_name(int leaf_dirfd, char *out)
{
	struct stat st;

	if (share_fstat(leaf_dirfd, NULL, &st) < 0)
		return -1;
	snprintf(out, STAGING_ENTRY_MAX, "leaf-%llu-%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	return 0;
}

char *
staging_mark_name(const char *output)
{
	char *name;

	if (asprintf(&name, ".%s.staged", output) < 0)
		return NULL;
	return name;
}

/* "DIR/.E.SUFFIX"-like names in the staging directory. */
static void
entry_file(char *buf, size_t size, const char *e, const char *suffix)
{
	if (suffix == NULL)
		snprintf(buf, size, "%s", e);
	else
		snprintf(buf, size, ".%s.%s", e, suffix);
}

/* Writes text whole to stagefd/name through a temporary of the entry e
 * (.E.tmp.PID.RAND, which a later run removes if we die), durably. */
static int
store_durably(int stagefd, const char *e, const char *name, const char *text)
{
	char *temp;
	int fd, saved;

	if ((fd = journal_temp_create(stagefd, e, "tmp", 0600, &temp)) < 0)
		return -1;
	if (xwrite(fd, text, strlen(text)) < 0 || fsync(fd) < 0 ||
	    xclose(fd) < 0) {
		saved = errno;
		close(fd);
		unlinkat(stagefd, temp, 0);
		free(temp);
		errno = saved;
		return -1;
	}
	if (renameat(stagefd, temp, stagefd, name) < 0) {
		saved = errno;
		unlinkat(stagefd, temp, 0);
		free(temp);
		errno = saved;
		return -1;
	}
	free(temp);
	return fsync(stagefd);
}

static json_object *
identity_json(const struct journal_identity *id)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ino", json_object_new_int64((int64_t)
	    id->ino));
	json_object_object_add(o, "size", json_object_new_int64(id->size));
	json_object_object_add(o, "mtime_ns",
	    json_object_new_int64(id->mtime_ns));
	return o;
}

int
staging_entry_store(int stagefd, const char *e, const struct staging_entry *en)
{
	json_object *o = json_object_new_object();
	char name[PATH_MAX], hash[32];
	int r, saved;

	if (o == NULL)
		return -1;
	json_object_object_add(o, "version", json_object_new_int(1));
	json_object_object_add(o, "leaf", json_object_new_string(en->leaf));
	json_object_object_add(o, "output", json_object_new_string(en->output));
	json_object_object_add(o, "host", json_object_new_string(en->host));
	json_object_object_add(o, "first", json_object_new_string(en->first));
	json_object_object_add(o, "first_id", identity_json(&en->first_id));
	json_object_object_add(o, "records", json_object_new_int64((int64_t)
	    en->records));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)
	    en->bytes));
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)en->hash);
	json_object_object_add(o, "hash", json_object_new_string(hash));
	entry_file(name, sizeof(name), e, "entry");
	r = store_durably(stagefd, e, name, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	saved = errno;
	json_object_put(o);
	errno = saved;
	return r;
}

/* A string member, copied; NULL when missing. */
static char *
get_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static long long
get_int(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return -1;
	return (long long)json_object_get_int64(v);
}

int
staging_entry_load(int stagefd, const char *e, struct staging_entry *en)
{
	char name[PATH_MAX], text[65536];
	json_object *o, *id;
	ssize_t n;
	int fd;

	memset(en, 0, sizeof(*en));
	entry_file(name, sizeof(name), e, "entry");
	if ((fd = openat(stagefd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : -1;
	n = xread(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return -1;
	text[n] = '\0';
	if ((o = json_tokener_parse(text)) == NULL) {
		errno = EBADMSG;
		return -1;
	}
	en->leaf = get_string(o, "leaf");
	en->output = get_string(o, "output");
	en->host = get_string(o, "host");
	en->first = get_string(o, "first");
	if (json_object_object_get_ex(o, "first_id", &id)) {
		en->first_id.ino = (unsigned long long)get_int(id, "ino");
		en->first_id.size = get_int(id, "size");
		en->first_id.mtime_ns = get_int(id, "mtime_ns");
	}
	en->records = (unsigned long long)get_int(o, "records");
	en->bytes = (unsigned long long)get_int(o, "bytes");
	if (json_object_object_get_ex(o, "hash", &id))
		en->hash = strtoull(json_object_get_string(id), NULL, 16);
	json_object_put(o);
	if (en->leaf == NULL || en->output == NULL || en->host == NULL ||
	    en->first == NULL) {
		staging_entry_free(en);
		errno = EBADMSG;
		return -1;
	}
	return 1;
}

void
staging_entry_free(struct staging_entry *en)
{
	free(en->leaf);
	free(en->output);
	free(en->host);
	free(en->first);
	memset(en, 0, sizeof(*en));
}

int
staging_drop(int stagefd, const char *e)
{
	static const char *const suffixes[] = { "entry", NULL, "journal" };
	char name[PATH_MAX];

	/* The entry first: without it, what is left of E is a dead run's
	 * (json-merge removes it), never an entry to finish. */
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
		entry_file(name, sizeof(name), e, suffixes[i]);
		if (unlinkat(stagefd, name, 0) < 0 && errno != ENOENT)
			return -1;
		if (i == 0 && fsync(stagefd) < 0)
			return -1;
	}
	return fsync(stagefd);
}

/* ---- in the leaf ---- */

/* Everything a finish works with. */
struct finish {
	int stagefd, leaf;
	const char *staging_dir, *e;
	const struct staging_entry *en;
	const struct journal *claim;
	char *mark;
	int markfd;
	unsigned long long removed;
	const char *step;
};

/* Fails the finish at step: -1, errno kept. */
static int
failed_at(struct finish *f, const char *step)
{
	f->step = step;
	return -1;
}

/* Step 1, second half: the mark's content, replacing the source's. */
static int
write_mark(struct finish *f)
{
	json_object *o = json_object_new_object();
	const char *text;
	int r;

	json_object_object_add(o, "staging",
	    json_object_new_string(f->staging_dir));
	json_object_object_add(o, "host", json_object_new_string(
	    journal_this_host()));
	json_object_object_add(o, "entry", json_object_new_string(f->e));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	r = share_ftruncate(f->markfd, f->mark, 0) < 0 ||
	    lseek(f->markfd, 0, SEEK_SET) < 0 ||
	    share_write_all(f->markfd, f->mark, STAGING_MARK_MAGIC,
	    strlen(STAGING_MARK_MAGIC)) < 0 ||
	    share_write_all(f->markfd, f->mark, text, strlen(text)) < 0 ||
	    share_write_all(f->markfd, f->mark, "\n", 1) < 0 ||
	    share_fsync(f->markfd, f->mark) < 0 ? -1 : 0;
	json_object_put(o);
	return r < 0 ? failed_at(f, "writing the mark") : 0;
}


/* -1 (said) unless every consumed source is still the file that was
 * read. */
static int
sources_unchanged(struct finish *f)
{
	struct spill_cursor c;
	struct journal_entry e;
	int r;

	spill_cursor_init(&c, &f->claim->sources);
	while ((r = journal_entries_next(&c, &e)) == 1)
		if (!journal_identity_matches(f->leaf, e.name, &e.id)) {
			spill_cursor_free(&c);
			errno = ESTALE;
			return failed_at(f, "a source changed");
		}
	spill_cursor_free(&c);
	return r < 0 ? failed_at(f, "reading the claim's sources") : 0;
}
/* Step 1: the mark, made (fresh) or found; 0, 1 when there is none and
 * the first source is still there (not fresh: stale), 2 when there is
 * none and the first source is gone (finished, or lost), -1. */
static int
mark(struct finish *f, bool fresh)
{
	char head[sizeof(STAGING_MARK_MAGIC)];
	struct journal_identity now;
	struct stat st;
	ssize_t n;

	f->markfd = share_openat(f->leaf, f->mark, O_RDWR | O_NOFOLLOW |
	    O_CLOEXEC, 0);
	if (f->markfd < 0 && errno != ENOENT)
		return failed_at(f, "opening the mark");
	if (f->markfd < 0) {
		if (!journal_identity_matches(f->leaf, f->en->first,
		    &f->en->first_id))
			return 2;
		if (!fresh)
			return 1;
		/* The sources must be the ones that were read. */
		if (sources_unchanged(f) < 0)
			return -1;
		if (share_renameat_noreplace(f->leaf, f->en->first,
		    f->mark) < 0)
			return failed_at(f, "renaming the first source to "
			    "the mark");
		if (share_fsync(f->leaf, NULL) < 0)
			return failed_at(f, "syncing the leaf");
		f->markfd = share_openat(f->leaf, f->mark, O_RDWR |
		    O_NOFOLLOW | O_CLOEXEC, 0);
		if (f->markfd < 0)
			return failed_at(f, "opening the mark");
		return write_mark(f);
	}
	if (share_fstat(f->markfd, f->mark, &st) < 0)
		return failed_at(f, "reading the mark");
	if (!fileid_ino_same(fileid_ino(&st), f->en->first_id.ino)) {
		errno = EEXIST;
		return failed_at(f, "the mark is not this entry's");
	}
	journal_identity_from_stat(&now, &st);
	if (journal_identity_equal(&now, &f->en->first_id))
		return write_mark(f);	/* still the source renamed */
	n = share_pread(f->markfd, f->mark, head, sizeof(head) - 1, 0);
	if (n < 0)
		return failed_at(f, "reading the mark");
	/* Written, or a copy cut short: step 4 writes it whole again. */
	return 0;
}

/* Step 2: the leaf's journal and the other sources go. */
static int
free_inodes(struct finish *f)
{
	char *jname = journal_name(f->en->output);
	const struct spill *lists[2] = { &f->claim->kept, &f->claim->sources };
	struct spill_cursor c;
	struct journal_entry e;
	int r = 0;

	if (jname == NULL)
		return failed_at(f, "memory");
	if (share_unlinkat(f->leaf, jname, 0) < 0 && errno != ENOENT) {
		free(jname);
		return failed_at(f, "removing the leaf's journal");
	}
	free(jname);
	for (int l = 0; r == 0 && l < 2; l++) {
		spill_cursor_init(&c, lists[l]);
		while ((r = journal_entries_next(&c, &e)) == 1) {
			if (strcmp(e.name, f->en->first) == 0 ||
			    !journal_identity_matches(f->leaf, e.name, &e.id))
				continue;
			if (share_unlinkat(f->leaf, e.name, 0) < 0) {
				if (errno == ENOENT)
					continue;
				r = -2;
				break;
			}
			f->removed++;
		}
		spill_cursor_free(&c);
	}
	if (r == -2)
		return failed_at(f, "removing a source");
	if (r < 0)
		return failed_at(f, "reading the claim's sources");
	if (share_fsync(f->leaf, NULL) < 0)
		return failed_at(f, "syncing the leaf");
	return 0;
}

/* Step 3: the output is the base that was merged (or there is none). */
static int
check_base(struct finish *f)
{
	struct journal_identity now;
	struct stat st;

	if (share_fstatat(f->leaf, f->en->output, &st,
	    AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return failed_at(f, "looking at the output");
		if (!f->claim->has_base)
			return 0;
	} else if (f->claim->has_base) {
		journal_identity_from_stat(&now, &st);
		if (journal_identity_equal(&now, &f->claim->base))
			return 0;
	}
	errno = ESTALE;
	return failed_at(f, "the output changed since it was merged");
}

/* Step 4, first half: DIR/E into the mark, hash checked, synced. */
static int
copy_in(struct finish *f)
{
	static char buf[1 << 20];
	struct journal_hash h;
	ssize_t n;
	int fd;

	if ((fd = openat(f->stagefd, f->e, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) < 0)
		return failed_at(f, "opening the staged output");
	journal_hash_init(&h);
	if (share_ftruncate(f->markfd, f->mark, 0) < 0 ||
	    lseek(f->markfd, 0, SEEK_SET) < 0) {
		close(fd);
		return failed_at(f, "emptying the mark");
	}
	while ((n = xread(fd, buf, sizeof(buf))) > 0) {
		journal_hash_update(&h, buf, (size_t)n);
		if (share_write_all(f->markfd, f->mark, buf, (size_t)n) < 0) {
			close(fd);
			return failed_at(f, "writing into the leaf");
		}
	}
	close(fd);
	if (n < 0)
		return failed_at(f, "reading the staged output");
	if (journal_hash_final(&h) != f->en->hash ||
	    h.records != f->en->records || h.bytes != f->en->bytes) {
		errno = EBADMSG;
		return failed_at(f, "the staged output is not what was merged");
	}
	if (share_fsync(f->markfd, f->mark) < 0)
		return failed_at(f, "syncing the output");
	return 0;
}

/* No mark, the first source gone: the output holds the staged records
 * when its hash is the claim's (the run stopped after step 4). */
static bool
output_is_staged(struct finish *f)
{
	static char buf[1 << 20];
	struct journal_hash h;
	ssize_t n;
	int fd;

	fd = share_openat(f->leaf, f->en->output, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	journal_hash_init(&h);
	while ((n = share_read_all(fd, f->en->output, buf, sizeof(buf))) > 0) {
		journal_hash_update(&h, buf, (size_t)n);
		if ((size_t)n < sizeof(buf))
			break;
	}
	share_close_quietly(&fd, f->en->output);
	return n >= 0 && journal_hash_final(&h) == f->en->hash &&
	    h.bytes == f->en->bytes;
}

enum staging_result
staging_finish(int stagefd, const char *staging_dir, const char *e,
    int leaf_dirfd, const struct staging_entry *en,
    const struct journal *claim, bool fresh, unsigned long long *removed,
    const char **step)
{
	struct finish f = {
		.stagefd = stagefd, .leaf = leaf_dirfd,
		.staging_dir = staging_dir, .e = e, .en = en, .claim = claim,
		.markfd = -1, .step = "",
	};
	enum staging_result result = STAGING_FAILED;
	int r, saved;

	*removed = 0;
	if ((f.mark = staging_mark_name(en->output)) == NULL) {
		*step = "memory";
		return STAGING_FAILED;
	}
	r = mark(&f, fresh);
	if (r == 1) {
		result = staging_drop(stagefd, e) < 0 ? STAGING_FAILED :
		    STAGING_STALE;
		f.step = "dropping a stale entry";
	} else if (r == 2) {
		/* No mark: either the output was moved in (it holds the
		 * staged records) or the leaf was never marked and was
		 * consolidated since without us.  Either way no record is
		 * only here. */
		bool moved = output_is_staged(&f);

		if (staging_drop(stagefd, e) == 0)
			result = moved ? STAGING_DONE : STAGING_STALE;
		else
			f.step = "removing the staged copy";
	} else if (r == 0 && free_inodes(&f) == 0 && check_base(&f) == 0 &&
	    copy_in(&f) == 0) {
		if (share_renameat(leaf_dirfd, f.mark, en->output) < 0)
			f.step = "renaming the mark over the output";
		else if (share_fsync(leaf_dirfd, NULL) < 0)
			f.step = "syncing the leaf";
		else if (staging_drop(stagefd, e) < 0)
			f.step = "removing the staged copy";
		else
			result = STAGING_DONE;
	}
	saved = errno;
	share_close_quietly(&f.markfd, f.mark);
	free(f.mark);
	*removed = f.removed;
	*step = f.step;
	errno = saved;
	return result;
}

int
staging_mark_read(int leaf_dirfd, const char *output, struct staging_mark *m)
{
	char text[8192], *mark = staging_mark_name(output), *body;
	json_object *o, *v;
	ssize_t n;
	int fd;

	memset(m, 0, sizeof(*m));
	if (mark == NULL)
		return -1;
	fd = share_openat(leaf_dirfd, mark, O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
	    0);
	if (fd < 0) {
		free(mark);
		return errno == ENOENT ? 0 : -1;
	}
	n = share_pread(fd, mark, text, sizeof(text) - 1, 0);
	share_close_quietly(&fd, mark);
	free(mark);
	if (n < 0)
		return -1;
	text[n] = '\0';
	if (strncmp(text, STAGING_MARK_MAGIC, strlen(STAGING_MARK_MAGIC)) != 0)
		return 1;
	body = text + strlen(STAGING_MARK_MAGIC);
	if ((o = json_tokener_parse(body)) == NULL)
		return 1;
	if (json_object_object_get_ex(o, "staging", &v))
		snprintf(m->staging, sizeof(m->staging), "%s",
		    json_object_get_string(v));
	if (json_object_object_get_ex(o, "host", &v))
		snprintf(m->host, sizeof(m->host), "%s",
		    json_object_get_string(v));
	if (json_object_object_get_ex(o, "entry", &v))
		snprintf(m->entry, sizeof(m->entry), "%s",
		    json_object_get_string(v));
	json_object_put(o);
	return 1;
}

void
staging_warn_waiting(const char *dir, const struct staging_mark *m)
{
	char staging[sizeof(m->staging) * 4];

	if (m->staging[0] == '\0') {
		diag_warnx("%s: a staged commit was cut short: its records "
		    "wait in a staging directory; run leafpack again with the "
		    "--staging DIR it had", diag_quote(dir));
		return;
	}
	/* diag_quote()'s buffers are few: one quoted copy of our own. */
	snprintf(staging, sizeof(staging), "%s", diag_quote(m->staging));
	diag_warnx("%s: its records wait in %s/%s on host %s; run leafpack "
	    "--staging %s on %s", diag_quote(dir), staging, m->entry, m->host,
	    staging, m->host);
}
