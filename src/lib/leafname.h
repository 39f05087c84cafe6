/*
 * leafname.h - which leaves are wanted by their own name (the last
 * component of the path): --name GLOBs and a --names-from list, as
 * leaf-filter and leafpack (--dates, --name) select them.  A leaf is
 * wanted when no selection was given, when a glob matches its name
 * (fnmatch(3) without flags) or when its name is a line of the list.
 * Nothing here looks at the file system.
 */
#ifndef LEAFPACK_LEAFNAME_H
#define LEAFPACK_LEAFNAME_H

#include <stdbool.h>
#include <stddef.h>

struct leafname_filter {
	char **globs;		/* owned copies */
	size_t nglobs, globcap;
	char **names;		/* owned copies, sorted for bsearch */
	size_t nnames, namecap;
	bool names_given;	/* a list was given (even an empty one) */
};

/* Adds a glob (copied).  Returns 0, or -1 (ENOMEM). */
int leafname_add_glob(struct leafname_filter *f, const char *glob);

/* Adds every line of file to the list of names.  Returns 0, or -1 with
 * errno set (the file cannot be opened or read, or ENOMEM). */
int leafname_load(struct leafname_filter *f, const char *file);

/* True when the leaf at path is wanted. */
bool leafname_wanted(const struct leafname_filter *f, const char *path);

/* True when any selection was given. */
bool leafname_selective(const struct leafname_filter *f);

/* Frees what f owns and zeroes it. */
void leafname_free(struct leafname_filter *f);

#endif
