/*
 * dirtree.h - the directories tree-scan knows of: a node per directory
 * (its name and its parent; paths are built on demand), the deque of
 * pending directories each worker slot has, and the set of (st_dev,
 * st_ino) of the live directories read, which finds loops.
 *
 * A node lives while it is pending, being read, stalled, or has live
 * descendants (refs counts those and itself), so memory follows the queue,
 * not the tree.  Out of memory ends the program (exit EXITCODE_FAILED,
 * "out of memory"): there is nothing to save but the queue.
 */
#ifndef LEAFPACK_DIRTREE_H
#define LEAFPACK_DIRTREE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

struct dirnode {
	struct dirnode *parent;
	struct dirnode *next;	/* in a job's children or the stalled list */
	struct dirnode *hash_next;
	uint64_t id;
	uint64_t dev, ino;	/* once read */
	uint64_t root_dev;
	uint32_t refs;
	int32_t reader;		/* worker slot that read it, or -1 */
	uint32_t reader_gen;
	uint32_t namelen;
	unsigned char newline;	/* a newline in the path */
	unsigned char hashed;
	unsigned char untried;	/* stalled: never read, the share gave up */
	char name[];		/* a root holds its path as given */
};

/* A ring of pending directories; zeroed is empty.  Freed with free(v). */
struct dirqueue {
	struct dirnode **v;
	size_t cap, head, len;
};

/* The nodes' ids, the (dev, ino) set, and the buffers paths are built in;
 * zeroed is empty. */
struct dirtree {
	uint64_t next_id;
	struct dirnode **buckets;
	size_t nbuckets, nhashed;
	struct buf path;	/* the last dirtree_path() */
	struct dirnode **chain;	/* the last dirtree_chain() */
	size_t chaincap;
};

/* Appends n at the newest end of d. */
void dirqueue_push(struct dirqueue *d, struct dirnode *n);

/* The newest: depth first, and the worker still holds its parent open.
 * NULL when d is empty. */
struct dirnode *dirqueue_pop_newest(struct dirqueue *d);

/* The oldest: the shallowest, the largest subtree to steal.  NULL when d
 * is empty. */
struct dirnode *dirqueue_pop_oldest(struct dirqueue *d);

/* A new node named name (len bytes, no NUL needed) under parent (NULL for
 * a root), with the next id, one reference, and no reader. */
struct dirnode *dirtree_node(struct dirtree *t, struct dirnode *parent,
    const char *name, size_t len);

/* Adds n, whose dev and ino are set, to the set of directories read. */
void dirtree_insert(struct dirtree *t, struct dirnode *n);

/* The ancestor of n that is the same directory (dev, ino), or NULL. */
struct dirnode *dirtree_loop(const struct dirtree *t, struct dirnode *n);

/* Drops one reference; frees the nodes whose subtree is done, walking up
 * (a loop, not recursion: chains are as deep as the tree), and takes them
 * out of the set. */
void dirtree_release(struct dirtree *t, struct dirnode *n);

/* Frees the list n, n->next, ... without looking at references. */
void dirtree_free_list(struct dirnode *n);

/* Puts n and its ancestors in t->chain, n first.  Returns their number. */
size_t dirtree_chain(struct dirtree *t, struct dirnode *n);

/* Builds n's path in t->path (NUL-terminated, len without the NUL): the
 * root as given, then the names joined with "/".  Returns t->path.data,
 * valid until the next call. */
const char *dirtree_path(struct dirtree *t, struct dirnode *n);

/* Frees the set and the buffers (not the nodes). */
void dirtree_free(struct dirtree *t);

#endif
