/*
 * fileid.c - inode numbers that last, or 0 (see fileid.h).
 */
#include "fileid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

/* Devices looked up so far: a run meets a handful. */
#define KNOWN_MAX 32

static struct {
	dev_t dev;
	bool lasting;
} known[KNOWN_MAX];
static size_t nknown;

/*
 * True unless the mount of dev is a FUSE file system (fuse, fuse.NAME:
 * sshfs, rclone and the like; fuseblk, ntfs-3g on a disk, keeps them) or
 * SMB mounted noserverino.  A device mountinfo does not list (a btrfs
 * subvolume reports one of its own) or no mountinfo: lasting, as before.
 */
static bool
lookup(dev_t dev)
{
	char line[4096], *sep, *type, *opts, *end;
	unsigned int major, minor;
	bool lasting = true;
	FILE *f;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return true;
	/* "ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [TAGS] - TYPE SOURCE
	 * SUPEROPTIONS" */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%*s %*s %u:%u", &major, &minor) != 2 ||
		    makedev(major, minor) != dev ||
		    (sep = strstr(line, " - ")) == NULL)
			continue;
		type = sep + 3;
		if ((end = strchr(type, ' ')) == NULL)
			continue;
		*end = '\0';
		opts = strrchr(end + 1, ' ');
		opts = opts != NULL ? opts + 1 : end + 1;
		if (strcmp(type, "fuse") == 0 || strncmp(type, "fuse.", 5) == 0)
			lasting = false;
		else if ((strcmp(type, "cifs") == 0 ||
		    strcmp(type, "smb3") == 0) &&
		    strstr(opts, "noserverino") != NULL)
			lasting = false;
		break;
	}
	fclose(f);
	return lasting;
}

unsigned long long
fileid_ino(const struct stat *st)
{
	size_t i;
	bool lasting;

	for (i = 0; i < nknown; i++)
		if (known[i].dev == st->st_dev)
			return known[i].lasting ? st->st_ino : 0;
	lasting = lookup(st->st_dev);
	if (nknown < KNOWN_MAX) {
		known[nknown].dev = st->st_dev;
		known[nknown].lasting = lasting;
		nknown++;
	}
	return lasting ? st->st_ino : 0;
}

bool
fileid_ino_same(unsigned long long a, unsigned long long b)
{
	return a == b || a == 0 || b == 0;
}
