/*
 * journal.c - the hand-over journal of a leaf (see journal.h).
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <json-c/json.h>

#include "share.h"
#include "xstd.h"

const char *
journal_this_host(void)
{
	static char host[HOST_NAME_MAX + 1];

	if (host[0] == '\0' && gethostname(host, sizeof(host) - 1) == -1)
		strcpy(host, "localhost");
	return host;
}

int
journal_init(struct journal *j)
{
	memset(j, 0, sizeof(*j));
	j->version = JOURNAL_VERSION;
	j->state = JOURNAL_MERGING;
	j->pid = getpid();
	j->pgid = getpgrp();
	j->host = strdup(journal_this_host());
	return j->host == NULL ? -1 : 0;
}

void
journal_entries_free(struct journal_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(entries[i].name);
	free(entries);
}

void
journal_free(struct journal *j)
{
	free(j->host);
	journal_entries_free(j->kept, j->nkept);
	journal_entries_free(j->sources, j->nsources);
	memset(j, 0, sizeof(*j));
}

const char *
journal_state_name(enum journal_state state)
{
	switch (state) {
	case JOURNAL_MERGING:
		return "merging";
	case JOURNAL_MERGED:
		return "merged";
	case JOURNAL_COMMITTED:
		return "committed";
	}
	return "?";
}

int
journal_entries_append(struct journal_entry **entries, size_t *n,
    const struct journal_entry *entry)
{
	struct journal_entry *grown;
	char *copy;

	copy = strdup(entry->name);
	if (copy == NULL)
		return -1;
	/* Grow by powers of two: n is a power of two exactly when full. */
	if ((*n & (*n - 1)) == 0) {
		grown = reallocarray(*entries, *n ? *n * 2 : 1, sizeof(**entries));
		if (grown == NULL) {
			free(copy);
			return -1;
		}
		*entries = grown;
	}
	(*entries)[*n] = *entry;
	(*entries)[*n].name = copy;
	(*n)++;
	return 0;
}

void
journal_identity_from_stat(struct journal_identity *id, const struct stat *st)
{
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL +
	    st->st_mtim.tv_nsec;
	id->ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL +
	    st->st_ctim.tv_nsec;
}

int
journal_entry_from_stat(struct journal_entry *e, const char *name,
    const struct stat *st)
{
	e->name = strdup(name);
	if (e->name == NULL)
		return -1;
	journal_identity_from_stat(&e->id, st);
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	return 0;
}

int
journal_identity_equal(const struct journal_identity *a,
    const struct journal_identity *b)
{
	return a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns && (a->ctime_ns == 0 ||
	    b->ctime_ns == 0 || a->ctime_ns == b->ctime_ns);
}

int
journal_identity_matches(int dirfd, const char *name,
    const struct journal_identity *id)
{
	struct stat st;
	struct journal_identity now;

	if (share_fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	journal_identity_from_stat(&now, &st);
	return journal_identity_equal(&now, id);
}

/* ---- JSON form ---- */

static char *
hex_encode(const char *s)
{
	static const char digits[] = "0123456789abcdef";
	size_t len = strlen(s);
	char *hex = malloc(2 * len + 1);

	if (hex == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[(unsigned char)s[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)s[i] & 15];
	}
	hex[2 * len] = '\0';
	return hex;
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex into a new string; NULL (EBADMSG) on bad or NUL bytes. */
static char *
hex_decode(const char *hex)
{
	size_t len = strlen(hex);
	char *s;

	if (len % 2 != 0 || len == 0) {
		errno = EBADMSG;
		return NULL;
	}
	s = malloc(len / 2 + 1);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(s);
			errno = EBADMSG;
			return NULL;
		}
		s[i] = (char)(hi << 4 | lo);
	}
	s[len / 2] = '\0';
	return s;
}

/* json_object_object_add() only fails on allocation failure. */
static int
add(struct json_object *obj, const char *key, struct json_object *value)
{
	if (value == NULL || json_object_object_add(obj, key, value) != 0) {
		json_object_put(value);
		return -1;
	}
	return 0;
}

/* Adds id's fields to obj (owned by the caller either way). */
static int
identity_to_json(struct json_object *obj, const struct journal_identity *id)
{
	return add(obj, "ino", json_object_new_uint64(id->ino)) == -1 ||
	    add(obj, "size", json_object_new_int64(id->size)) == -1 ||
	    add(obj, "mtime_ns", json_object_new_int64(id->mtime_ns)) == -1 ||
	    (id->ctime_ns != 0 && add(obj, "ctime_ns",
	    json_object_new_int64(id->ctime_ns)) == -1) ? -1 : 0;
}

/*
 * True when name can be stored as a plain JSON string that reads back as
 * the same bytes: printable ASCII without quotes or backslashes.  Plain
 * names keep the commit record small enough for an extended attribute
 * (about 4 KB on ext4) on leaves of tens of sources; others go hex-encoded.
 */
static int
name_is_plain(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			return 0;
	return 1;
}

static int
entry_to_json(struct json_object *obj, const struct journal_entry *e)
{
	int plain = name_is_plain(e->name);
	char *hex = plain ? NULL : hex_encode(e->name);
	int ret;

	if (!plain && hex == NULL)
		return -1;
	ret = (plain ? add(obj, "name", json_object_new_string(e->name)) :
	    add(obj, "name_hex", json_object_new_string(hex))) == -1 ||
	    identity_to_json(obj, &e->id) == -1 ||
	    add(obj, "mode", json_object_new_int64(e->mode)) == -1 ||
	    add(obj, "uid", json_object_new_int64(e->uid)) == -1 ||
	    add(obj, "gid", json_object_new_int64(e->gid)) == -1 ? -1 : 0;
	free(hex);
	return ret;
}

static struct json_object *
entries_to_json(const struct journal_entry *e, size_t n)
{
	struct json_object *array = json_object_new_array();

	if (array == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *obj = json_object_new_object();

		if (obj == NULL || entry_to_json(obj, &e[i]) == -1 ||
		    json_object_array_add(array, obj) != 0) {
			json_object_put(obj);
			json_object_put(array);
			return NULL;
		}
	}
	return array;
}

/* The journal as one line of JSON, malloc()ed; NULL (ENOMEM) on failure. */
static char *
journal_serialize(const struct journal *j)
{
	struct json_object *root, *holder, *base = NULL;
	char hash[17], *text = NULL;

	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)j->hash);
	root = json_object_new_object();
	if (root == NULL)
		goto out;
	/* Once added to root, holder and base are freed with it. */
	holder = json_object_new_object();
	if (add(root, "version", json_object_new_int(j->version)) == -1 ||
	    add(root, "state", json_object_new_string(
	    journal_state_name(j->state))) == -1 ||
	    add(root, "holder", holder) == -1 ||
	    add(holder, "host", json_object_new_string(
	    j->host ? j->host : "")) == -1 ||
	    add(holder, "pid", json_object_new_int64(j->pid)) == -1 ||
	    (j->pgid > 0 && add(holder, "pgid",
	    json_object_new_int64(j->pgid)) == -1))
		goto out;
	if (j->has_base) {
		base = json_object_new_object();
		if (add(root, "base", base) == -1 ||
		    identity_to_json(base, &j->base) == -1)
			goto out;
	} else if (json_object_object_add(root, "base", NULL) != 0)
		goto out;
	if (add(root, "output_ino", json_object_new_uint64(j->output_ino)) == -1 ||
	    add(root, "kept", entries_to_json(j->kept, j->nkept)) == -1 ||
	    add(root, "sources", entries_to_json(j->sources,
	    j->nsources)) == -1 ||
	    add(root, "records", json_object_new_uint64(j->records)) == -1 ||
	    add(root, "bytes", json_object_new_uint64(j->bytes)) == -1 ||
	    add(root, "hash", json_object_new_string(hash)) == -1)
		goto out;
	text = strdup(json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(root);
	if (text == NULL)
		errno = ENOMEM;
	return text;
}

static int
get_field(struct json_object *obj, const char *key, enum json_type type,
    struct json_object **value)
{
	if (!json_object_object_get_ex(obj, key, value) ||
	    !json_object_is_type(*value, type))
		return -1;
	return 0;
}

static int
get_u64(struct json_object *obj, const char *key, unsigned long long *out)
{
	struct json_object *v;

	if (get_field(obj, key, json_type_int, &v) == -1)
		return -1;
	errno = 0;
	*out = json_object_get_uint64(v);
	/* json-c keeps negative numbers as int64; refuse those. */
	if (json_object_get_int64(v) < 0 && *out == 0)
		return -1;
	return 0;
}

static int
get_i64(struct json_object *obj, const char *key, long long *out)
{
	struct json_object *v;

	if (get_field(obj, key, json_type_int, &v) == -1)
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

static int
identity_from_json(struct json_object *obj, struct journal_identity *id)
{
	id->ctime_ns = 0;
	return get_u64(obj, "ino", &id->ino) == -1 ||
	    get_i64(obj, "size", &id->size) == -1 ||
	    get_i64(obj, "mtime_ns", &id->mtime_ns) == -1 ||
	    (json_object_object_get_ex(obj, "ctime_ns", NULL) &&
	    get_i64(obj, "ctime_ns", &id->ctime_ns) == -1) ? -1 : 0;
}

static int
entries_from_json(struct json_object *root, const char *key,
    struct journal_entry **out, size_t *nout)
{
	struct json_object *array, *obj, *hex;
	struct journal_entry e;
	unsigned long long mode, uid, gid;
	size_t n;

	if (get_field(root, key, json_type_array, &array) == -1)
		return -1;
	n = json_object_array_length(array);
	for (size_t i = 0; i < n; i++) {
		obj = json_object_array_get_idx(array, i);
		int plain = json_object_object_get_ex(obj, "name", NULL);

		if (!json_object_is_type(obj, json_type_object) ||
		    get_field(obj, plain ? "name" : "name_hex",
		    json_type_string, &hex) == -1 ||
		    identity_from_json(obj, &e.id) == -1 ||
		    get_u64(obj, "mode", &mode) == -1 ||
		    get_u64(obj, "uid", &uid) == -1 ||
		    get_u64(obj, "gid", &gid) == -1)
			return -1;
		e.mode = (unsigned)mode;
		e.uid = (unsigned)uid;
		e.gid = (unsigned)gid;
		e.name = plain ? strdup(json_object_get_string(hex)) :
		    hex_decode(json_object_get_string(hex));
		if (e.name == NULL)
			return -1;
		/* journal_entries_append() copies the name. */
		if (journal_entries_append(out, nout, &e) == -1) {
			free(e.name);
			return -1;
		}
		free(e.name);
	}
	return 0;
}

/* Parses text into *j (already initialized); -1 on any malformation. */
static int
journal_parse(const char *text, size_t len, struct journal *j)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *v, *holder, *base;
	const char *s;
	long long version;
	unsigned long long hash;
	int ret = -1;

	if (tok == NULL)
		return -1;
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	/* Only whitespace may follow the object. */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		if (text[i] != '\n' && text[i] != ' ')
			goto out;
	if (!json_object_is_type(root, json_type_object) ||
	    get_i64(root, "version", &version) == -1 ||
	    version != JOURNAL_VERSION ||
	    get_field(root, "state", json_type_string, &v) == -1)
		goto out;
	s = json_object_get_string(v);
	if (strcmp(s, "merging") == 0)
		j->state = JOURNAL_MERGING;
	else if (strcmp(s, "merged") == 0)
		j->state = JOURNAL_MERGED;
	else if (strcmp(s, "committed") == 0)
		j->state = JOURNAL_COMMITTED;
	else
		goto out;
	if (get_field(root, "holder", json_type_object, &holder) == -1 ||
	    get_field(holder, "host", json_type_string, &v) == -1 ||
	    get_i64(holder, "pid", &j->pid) == -1 ||
	    (json_object_object_get_ex(holder, "pgid", NULL) &&
	    get_i64(holder, "pgid", &j->pgid) == -1))
		goto out;
	free(j->host);
	j->host = strdup(json_object_get_string(v));
	if (j->host == NULL || !json_object_object_get_ex(root, "base", &base))
		goto out;
	j->has_base = base != NULL;
	if (j->has_base && (!json_object_is_type(base, json_type_object) ||
	    identity_from_json(base, &j->base) == -1))
		goto out;
	if (get_u64(root, "output_ino", &j->output_ino) == -1 ||
	    entries_from_json(root, "kept", &j->kept, &j->nkept) == -1 ||
	    entries_from_json(root, "sources", &j->sources,
	    &j->nsources) == -1 ||
	    get_u64(root, "records", &j->records) == -1 ||
	    get_u64(root, "bytes", &j->bytes) == -1 ||
	    get_field(root, "hash", json_type_string, &v) == -1 ||
	    sscanf(json_object_get_string(v), "%16llx", &hash) != 1)
		goto out;
	j->hash = hash;
	ret = 0;
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

/*
 * Parses text (len bytes, NUL-terminated here, freed here) into *j and
 * dates it with st's mtime.  -1 (EBADMSG) with j freed on malformation.
 */
static int
parse_text(char *text, size_t len, const struct stat *st, struct journal *j)
{
	int bad;

	text[len] = '\0';
	bad = journal_parse(text, len, j) == -1;
	free(text);
	if (bad) {
		journal_free(j);
		errno = EBADMSG;
		return -1;
	}
	j->file_mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL +
	    st->st_mtim.tv_nsec;
	return 0;
}

static void
free_keeping_errno(void *p)
{
	int saved = errno;

	free(p);
	errno = saved;
}

/* Fails a load: closes fd (if >= 0; the file name), frees text and j,
 * keeps errno. */
static int
load_failed(int fd, const char *name, char *text, struct journal *j)
{
	int saved = errno;

	if (fd >= 0)
		share_close(fd, name);
	free(text);
	journal_free(j);
	errno = saved;
	return -1;
}

/* The journal of one leaf kept elsewhere (journal_redirect()). */
static struct {
	int from;		/* the leaf's dirfd, or -1 */
	int to;
	char name[NAME_MAX + 1];
} redirect = { .from = -1 };

void
journal_redirect(int dirfd, int to_dirfd, const char *to_name)
{
	redirect.from = dirfd;
	redirect.to = to_dirfd;
	snprintf(redirect.name, sizeof(redirect.name), "%s", to_name);
}

void
journal_redirect_clear(void)
{
	redirect.from = -1;
}

/* Where the journal of (dirfd, name) is. */
static void
place(int *dirfd, const char **name)
{
	if (redirect.from >= 0 && *dirfd == redirect.from) {
		*dirfd = redirect.to;
		*name = redirect.name;
	}
}

int
journal_load(int dirfd, const char *name, struct journal *j)
{
	struct stat st;
	char *jname, *text = NULL;
	size_t len = 0;
	ssize_t got;
	int fd, r;

	place(&dirfd, &name);
	if (journal_init(j) == -1)
		return -1;
	jname = journal_name(name);
	if (jname == NULL)
		return load_failed(-1, NULL, text, j);
	fd = share_openat(dirfd, jname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd == -1) {
		r = errno == ENOENT ? 0 : load_failed(-1, NULL, text, j);
		free_keeping_errno(jname);
		return r;
	}
	if (share_fstat(fd, jname, &st) == -1)
		goto fail_fd;
	if (!S_ISREG(st.st_mode)) {
		errno = EBADMSG;
		goto fail_fd;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL)
		goto fail_fd;
	if ((got = share_read_all(fd, jname, text, (size_t)st.st_size)) == -1)
		goto fail_fd;
	len = (size_t)got;
	share_close(fd, jname);
	free(jname);
	return parse_text(text, len, &st, j) == -1 ? -1 : 1;
fail_fd:
	r = load_failed(fd, jname, text, j);
	free_keeping_errno(jname);
	return r;
}

/* ---- the record attached to the output ---- */

/*
 * The attribute's value, malloc()ed and NUL-terminated in *text (length
 * *len): first into a buffer that holds a leaf's usual record, so that
 * reading it is one call; sized first only when it is bigger.  Returns 1,
 * 0 when there is none (or no attribute support), -1 on error.
 */
static int
read_attr(int fd, const char *name, char **text, ssize_t *len)
{
	size_t cap = 4096;
	char *grown;

	for (;;) {
		if ((grown = realloc(*text, cap + 1)) == NULL)
			return -1;
		*text = grown;
		*len = share_fgetxattr(fd, name, JOURNAL_ATTR, *text, cap);
		if (*len >= 0) {
			(*text)[*len] = '\0';
			return 1;
		}
		if (errno == ENODATA || errno == ENOTSUP)
			return 0;
		if (errno != ERANGE)
			return -1;
		/* Bigger: its size, then again (it may grow meanwhile). */
		*len = share_fgetxattr(fd, name, JOURNAL_ATTR, NULL, 0);
		if (*len < 0)
			return errno == ENODATA || errno == ENOTSUP ? 0 : -1;
		cap = (size_t)*len + 1;
	}
}

int
journal_attr_load_fd(int fd, const char *name, const struct stat *st,
    struct journal *j)
{
	char *text = NULL;
	ssize_t len;
	int r;

	if (journal_init(j) == -1)
		return -1;
	if (!S_ISREG(st->st_mode) ||
	    (r = read_attr(fd, name, &text, &len)) == 0) {
		free(text);
		journal_free(j);
		return 0;
	}
	if (r < 0)
		return load_failed(-1, NULL, text, j);
	if (parse_text(text, (size_t)len, st, j) == -1)
		return -1;
	if (j->state == JOURNAL_COMMITTED && j->output_ino == st->st_ino)
		return 1;
	/* Another inode's record (a copy), or not a commit: nothing. */
	journal_free(j);
	return 0;
}

int
journal_attr_load(int dirfd, const char *name, struct journal *j)
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: an output that is a FIFO must not hang us. */
	fd = share_openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0);
	if (fd == -1) {
		if (journal_init(j) == -1)
			return -1;
		if (errno == ENOENT || errno == ELOOP || errno == EACCES) {
			journal_free(j);
			return 0;
		}
		return load_failed(-1, NULL, NULL, j);
	}
	if (share_fstat(fd, name, &st) == -1) {
		if (journal_init(j) == -1)
			return -1;
		return load_failed(fd, name, NULL, j);
	}
	r = journal_attr_load_fd(fd, name, &st, j);
	share_close_quietly(&fd, name);
	return r;
}

int
journal_attr_store(int fd, const char *name, const struct journal *j)
{
	const char *off = getenv("LEAFPACK_NO_XATTR");
	char *text;
	int ret, saved;

	if (off != NULL && strcmp(off, "1") == 0) {
		errno = ENOTSUP;
		return -1;
	}
	text = journal_serialize(j);
	if (text == NULL)
		return -1;
	ret = share_fsetxattr(fd, name, JOURNAL_ATTR, text, strlen(text),
	    XATTR_CREATE);
	saved = errno;
	free(text);
	errno = saved;
	return ret;
}

/* ---- writing ---- */

/*
 * Writes the journal into a new temporary; returns its fd (name in *temp)
 * or -1 with no temporary left behind.
 */
static int
write_temp(int dirfd, const char *name, const struct journal *j, int durable,
    char **temp)
{
	char *text;
	size_t len;
	int fd, saved;

	text = journal_serialize(j);
	if (text == NULL)
		return -1;
	fd = journal_temp_create(dirfd, name, "journal.tmp", 0666, temp);
	if (fd == -1) {
		free(text);
		return -1;
	}
	len = strlen(text);
	text[len] = '\n';	/* replaces the NUL: written as one line */
	if (share_write_all(fd, *temp, text, len + 1) == -1 ||
	    (durable && share_fsync(fd, *temp) == -1)) {
		saved = errno;
		free(text);
		share_close(fd, *temp);
		share_unlinkat(dirfd, *temp, 0);
		free(*temp);
		*temp = NULL;
		errno = saved;
		return -1;
	}
	free(text);
	return fd;
}

/* Ends a journal write: closes fd and removes *temp when failed. */
static int
finish_temp(int dirfd, int fd, char *temp, int failed)
{
	int saved = errno;

	if (share_close(fd, temp) == -1 && !failed) {
		saved = errno;
		failed = 1;
	}
	if (failed)
		share_unlinkat(dirfd, temp, 0);
	free(temp);
	errno = saved;
	return failed ? -1 : 0;
}

int
journal_store(int dirfd, const char *name, const struct journal *j,
    int durable)
{
	char *temp, *jname;
	int fd, failed;

	place(&dirfd, &name);
	jname = journal_name(name);
	if (jname == NULL)
		return -1;
	fd = write_temp(dirfd, name, j, durable, &temp);
	if (fd == -1) {
		free(jname);
		return -1;
	}
	failed = share_renameat(dirfd, temp, jname) == -1;
	free(jname);
	if (finish_temp(dirfd, fd, temp, failed) == -1)
		return -1;
	if (durable && share_fsync(dirfd, NULL) == -1)
		return -1;
	return 0;
}

/* The file system cannot make hard links: fall back to O_EXCL. */
static int
create_excl(int dirfd, const char *jname, const struct journal *j)
{
	char *text = journal_serialize(j);
	size_t len;
	int fd, saved;

	if (text == NULL)
		return -1;
	fd = share_openat(dirfd, jname, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd == -1) {
		free(text);
		return -1;
	}
	len = strlen(text);
	text[len] = '\n';
	if (share_write_all(fd, jname, text, len + 1) == -1 ||
	    share_close(fd, jname) == -1) {
		saved = errno;
		share_unlinkat(dirfd, jname, 0);
		free(text);
		errno = saved;
		return -1;
	}
	free(text);
	return 0;
}

int
journal_create(int dirfd, const char *name, const struct journal *j)
{
	char *temp, *jname;
	int fd, failed, linkerr = 0;

	place(&dirfd, &name);
	jname = journal_name(name);
	if (jname == NULL)
		return -1;
	fd = write_temp(dirfd, name, j, 0, &temp);
	if (fd == -1) {
		free(jname);
		return -1;
	}
	failed = share_linkat(dirfd, temp, jname) == -1;
	if (failed)
		linkerr = errno;
	/* The temporary goes either way: on success the journal is the link. */
	finish_temp(dirfd, fd, temp, 1);
	if (failed && (linkerr == EPERM || linkerr == EOPNOTSUPP ||
	    linkerr == ENOSYS || linkerr == EMLINK)) {
		failed = create_excl(dirfd, jname, j) == -1;
		linkerr = errno;
	}
	free(jname);
	if (failed) {
		errno = linkerr;
		return -1;
	}
	return 0;
}

int
journal_remove(int dirfd, const char *name)
{
	char *jname;
	int ret, saved;

	place(&dirfd, &name);
	jname = journal_name(name);
	if (jname == NULL)
		return -1;
	ret = share_unlinkat(dirfd, jname, 0);
	saved = errno;
	free(jname);
	errno = saved;
	return ret;
}
