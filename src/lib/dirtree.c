#include "dirtree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "exitcode.h"

static void __attribute__((noreturn))
out_of_memory(void)
{
	errno = ENOMEM;
	diag_err(EXITCODE_FAILED, "out of memory");
}

void
dirqueue_push(struct dirqueue *d, struct dirnode *n)
{
	if (d->len == d->cap) {
		size_t old = d->cap;

		/* RESERVE() doubles a full array (from 8): the ring stays a
		 * power of two, and the part that had wrapped around to the
		 * front moves up behind the rest. */
		if (RESERVE(d->v, d->cap, d->len + 1) < 0)
			out_of_memory();
		memcpy(d->v + old, d->v, d->head * sizeof(*d->v));
	}
	d->v[(d->head + d->len++) & (d->cap - 1)] = n;
}

struct dirnode *
dirqueue_pop_newest(struct dirqueue *d)
{
	if (d->len == 0)
		return NULL;
	return d->v[(d->head + --d->len) & (d->cap - 1)];
}

struct dirnode *
dirqueue_pop_oldest(struct dirqueue *d)
{
	struct dirnode *n;

	if (d->len == 0)
		return NULL;
	n = d->v[d->head];
	d->head = (d->head + 1) & (d->cap - 1);
	d->len--;
	return n;
}

struct dirnode *
dirtree_node(struct dirtree *t, struct dirnode *parent, const char *name,
    size_t len)
{
	struct dirnode *n = calloc(1, sizeof(*n) + len + 1);

	if (n == NULL)
		out_of_memory();
	n->parent = parent;
	n->id = ++t->next_id;
	n->refs = 1;
	n->reader = -1;
	n->namelen = len;
	n->newline = (parent && parent->newline) ||
	    memchr(name, '\n', len) != NULL;
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	return n;
}

static size_t
hash_slot(const struct dirtree *t, uint64_t dev, uint64_t ino)
{
	uint64_t h = (ino ^ (dev << 32 | dev >> 32)) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (t->nbuckets - 1);
}

void
dirtree_insert(struct dirtree *t, struct dirnode *n)
{
	if (t->nhashed >= t->nbuckets) {
		size_t old = t->nbuckets;
		struct dirnode **b = t->buckets;

		t->nbuckets = old ? old * 2 : 1024;
		t->buckets = calloc(t->nbuckets, sizeof(*b));
		if (t->buckets == NULL)
			out_of_memory();
		for (size_t i = 0; i < old; i++) {
			while (b[i] != NULL) {
				struct dirnode *m = b[i];
				size_t j = hash_slot(t, m->dev, m->ino);

				b[i] = m->hash_next;
				m->hash_next = t->buckets[j];
				t->buckets[j] = m;
			}
		}
		free(b);
	}
	size_t j = hash_slot(t, n->dev, n->ino);
	n->hash_next = t->buckets[j];
	t->buckets[j] = n;
	n->hashed = 1;
	t->nhashed++;
}

static void
hash_remove(struct dirtree *t, struct dirnode *n)
{
	struct dirnode **p = &t->buckets[hash_slot(t, n->dev, n->ino)];

	while (*p != n)
		p = &(*p)->hash_next;
	*p = n->hash_next;
	t->nhashed--;
}

struct dirnode *
dirtree_loop(const struct dirtree *t, struct dirnode *n)
{
	if (t->nbuckets == 0)
		return NULL;
	for (struct dirnode *m = t->buckets[hash_slot(t, n->dev, n->ino)]; m;
	    m = m->hash_next) {
		if (m->dev != n->dev || m->ino != n->ino)
			continue;
		for (struct dirnode *a = n->parent; a != NULL; a = a->parent)
			if (a == m)
				return m;
	}
	return NULL;
}

void
dirtree_release(struct dirtree *t, struct dirnode *n)
{
	while (n != NULL && --n->refs == 0) {
		struct dirnode *parent = n->parent;

		if (n->hashed)
			hash_remove(t, n);
		free(n);
		n = parent;
	}
}

void
dirtree_free_list(struct dirnode *n)
{
	while (n != NULL) {
		struct dirnode *next = n->next;

		free(n);
		n = next;
	}
}

size_t
dirtree_chain(struct dirtree *t, struct dirnode *n)
{
	size_t depth = 0;

	for (struct dirnode *a = n; a != NULL; a = a->parent) {
		if (RESERVE(t->chain, t->chaincap, depth + 1) < 0)
			out_of_memory();
		t->chain[depth++] = a;
	}
	return depth;
}

const char *
dirtree_path(struct dirtree *t, struct dirnode *n)
{
	size_t depth = dirtree_chain(t, n);

	t->path.len = 0;
	while (depth-- > 0) {
		struct dirnode *a = t->chain[depth];

		if (buf_reserve(&t->path, a->namelen + 2) < 0)
			out_of_memory();
		if (a->parent != NULL && t->path.len > 0 &&
		    t->path.data[t->path.len - 1] != '/')
			t->path.data[t->path.len++] = '/';
		memcpy(t->path.data + t->path.len, a->name, a->namelen);
		t->path.len += a->namelen;
	}
	if (buf_reserve(&t->path, 1) < 0)
		out_of_memory();
	t->path.data[t->path.len] = '\0';
	return t->path.data;
}

void
dirtree_free(struct dirtree *t)
{
	free(t->buckets);
	buf_free(&t->path);
	free(t->chain);
}
