/*
 * watch.c - watch records of the calls on the share (see watch.h).
 */
#include "watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define OP_SHIFT 56
#define TIME_MASK ((1ULL << OP_SHIFT) - 1)

static const char *const op_names[WATCH_OPS] = {
	[WATCH_NONE] = "nothing", [WATCH_OPEN] = "open",
	[WATCH_CREATE] = "create", [WATCH_STAT] = "stat",
	[WATCH_READ] = "read", [WATCH_LIST] = "listing",
	[WATCH_WRITE] = "write", [WATCH_FSYNC] = "fsync",
	[WATCH_RENAME] = "rename", [WATCH_UNLINK] = "unlink",
	[WATCH_LINK] = "link", [WATCH_GETXATTR] = "getxattr",
	[WATCH_SETXATTR] = "setxattr", [WATCH_REMOVEXATTR] = "removexattr",
	[WATCH_CHMOD] = "chmod", [WATCH_CHOWN] = "chown",
	[WATCH_CLOSE] = "close", [WATCH_STATFS] = "statfs",
};

/* This process's record, when watched; and the directory of the names. */
static struct watch_record *mine;
static char dir[WATCH_PATH_MAX];
static size_t dirlen;

const char *
watch_op_name(enum watch_op op)
{
	return op > WATCH_NONE && op < WATCH_OPS ? op_names[op] : "call";
}

long long
watch_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
watch_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
watch_attach(void)
{
	const char *env = getenv(WATCH_ENV);
	char *end;
	long fd;
	unsigned long index;
	void *p;

	if (env == NULL)
		return 0;
	errno = 0;
	fd = strtol(env, &end, 10);
	if (errno != 0 || end == env || *end != ':' || fd < 0)
		goto bad;
	index = strtoul(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	p = mmap(NULL, WATCH_RECORD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    (int)fd, (off_t)index * WATCH_RECORD_SIZE);
	/* The mapping outlives the descriptor, which no child may inherit. */
	close((int)fd);
	unsetenv(WATCH_ENV);
	if (p == MAP_FAILED)
		return -1;
	mine = p;
	return 0;
bad:
	unsetenv(WATCH_ENV);
	errno = EINVAL;
	return -1;
}

void
watch_attach_record(struct watch_record *r)
{
	mine = r;
}

long long
watch_grace_ms(long long timeout_ms)
{
	long long grace = timeout_ms / 10;

	return grace < 200 ? 200 : grace > 2000 ? 2000 : grace;
}

bool
watch_attached(void)
{
	return mine != NULL;
}

void
watch_set_dir(const char *path)
{
	if (mine == NULL)
		return;
	dirlen = 0;
	if (path == NULL)
		return;
	dirlen = strnlen(path, sizeof(dir) - 2);
	memcpy(dir, path, dirlen);
	if (dirlen > 0 && dir[dirlen - 1] != '/')
		dir[dirlen++] = '/';
	dir[dirlen] = '\0';
}

void
watch_begin(enum watch_op op, const char *name)
{
	size_t len = 0, n;

	if (mine == NULL)
		return;
	if (name == NULL || name[0] != '/') {
		memcpy(mine->path, dir, dirlen);
		len = dirlen;
	}
	if (name != NULL) {
		n = strnlen(name, sizeof(mine->path) - 1 - len);
		memcpy(mine->path + len, name, n);
		len += n;
	} else if (len > 1)
		len--;		/* the directory itself, without its '/' */
	mine->path[len] = '\0';
	mine->calls++;
	__atomic_store_n(&mine->word, (uint64_t)op << OP_SHIFT |
	    ((uint64_t)watch_clock_us() & TIME_MASK), __ATOMIC_RELEASE);
}

void
watch_end(void)
{
	uint64_t word, took;
	int b = 0;

	if (mine == NULL)
		return;
	word = __atomic_load_n(&mine->word, __ATOMIC_RELAXED);
	__atomic_store_n(&mine->word, 0, __ATOMIC_RELEASE);
	if (word == 0)
		return;
	took = (uint64_t)watch_clock_us() - (word & TIME_MASK);
	while (took > 1 && b < WATCH_BUCKETS - 1) {
		took >>= 1;
		b++;
	}
	__atomic_fetch_add(&mine->latency[b], 1, __ATOMIC_RELAXED);
}

int
watch_area_create(struct watch_area *area, size_t count)
{
	size_t size = count * WATCH_RECORD_SIZE;

	area->records = NULL;
	area->count = count;
	area->fd = memfd_create("leafpack-watch", MFD_CLOEXEC);
	if (area->fd < 0)
		return -1;
	if (ftruncate(area->fd, (off_t)size) < 0)
		goto fail;
	/* Pages are touched only by the processes that use them. */
	area->records = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    area->fd, 0);
	if (area->records == MAP_FAILED) {
		area->records = NULL;
		goto fail;
	}
	return 0;
fail:
	close(area->fd);
	area->fd = -1;
	return -1;
}

void
watch_area_free(struct watch_area *area)
{
	if (area->records != NULL)
		munmap(area->records, area->count * WATCH_RECORD_SIZE);
	if (area->fd >= 0)
		close(area->fd);
	area->records = NULL;
	area->fd = -1;
	area->count = 0;
}

void
watch_area_clear(struct watch_area *area, size_t i)
{
	struct watch_record *r = &area->records[i];

	__atomic_store_n(&r->word, 0, __ATOMIC_RELEASE);
	r->calls = 0;
	memset(r->latency, 0, sizeof(r->latency));
	r->path[0] = '\0';
}

void
watch_area_env(size_t i, int child_fd, char *buf, size_t size)
{
	snprintf(buf, size, "%s=%d:%zu", WATCH_ENV, child_fd, i);
}

bool
watch_area_pending(const struct watch_area *area, size_t i,
    struct watch_pending *p)
{
	const struct watch_record *r = &area->records[i];
	uint64_t word = __atomic_load_n(&r->word, __ATOMIC_ACQUIRE);

	if (word == 0)
		return false;
	p->op = (enum watch_op)(word >> OP_SHIFT);
	p->since_ms = (long long)(word & TIME_MASK) / 1000;
	memcpy(p->path, r->path, sizeof(p->path));
	p->path[sizeof(p->path) - 1] = '\0';
	/* A path read while the call changed under us names the wrong
	 * file: only a word read again unchanged vouches for it. */
	if (__atomic_load_n(&r->word, __ATOMIC_ACQUIRE) != word)
		return false;
	return true;
}

uint64_t
watch_area_calls(const struct watch_area *area, size_t i)
{
	return __atomic_load_n(&area->records[i].calls, __ATOMIC_RELAXED);
}

void
watch_area_latency(const struct watch_area *area, size_t i,
    uint32_t sum[WATCH_BUCKETS])
{
	for (int b = 0; b < WATCH_BUCKETS; b++)
		sum[b] += __atomic_load_n(&area->records[i].latency[b],
		    __ATOMIC_RELAXED);
}

double
watch_bucket_us(int bucket)
{
	return 1.5 * (double)(1ULL << bucket);
}
