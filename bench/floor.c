/*
 * floor - the floor for consolidation: the file-system work leafpack cannot
 * avoid, with no JSON work at all.
 *
 *     walk ROOT | floor [-P N] [--remove] [--no-fsync]
 *
 * For each leaf directory named on stdin (one per line) it reads every
 * regular *.txt file once and appends its bytes, unchanged, to a temporary
 * file in the leaf; then it commits the way jsonl-write does: fsync the
 * file, rename it over consolidated.jsonl, fsync the directory.  With
 * --remove it then unlinks the sources and fsyncs the directory again.
 * --no-fsync leaves both fsyncs out, to show what durability costs.
 *
 * -P N forks N workers that take every Nth leaf, as leafpack -P N runs N
 * leaves at once.  Exit status: 0, or 1 if some leaf failed (named on
 * stderr), 2 for usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT "consolidated.jsonl"
#define TEMP "consolidated.jsonl.floor-tmp"

static bool remove_sources, do_fsync = true;
static char buffer[1 << 20];

static bool
is_source(int dirfd, const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	if (n < 4 || strcmp(e->d_name + n - 4, ".txt") != 0)
		return false;
	if (e->d_type == DT_REG)
		return true;
	struct stat st;
	return e->d_type == DT_UNKNOWN && fstatat(dirfd, e->d_name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Copies dirfd/name to out; returns 0 or -1 with errno set. */
static int
append_source(int dirfd, const char *name, int out)
{
	int in = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -1;
	for (;;) {
		ssize_t n = read(in, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = errno;
			close(in);
			errno = saved;
			return n < 0 ? -1 : 0;
		}
		for (ssize_t done = 0; done < n; ) {
			ssize_t w = write(out, buffer + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				int saved = errno;
				close(in);
				errno = saved;
				return -1;
			}
			done += w;
		}
	}
}

/* Consolidates one leaf; returns 0 or -1 after naming the failure. */
static int
floor_leaf(const char *path)
{
	const char *step = "open";
	int out = -1, dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = NULL;
	char **names = NULL;
	size_t count = 0, cap = 0;

	if (dirfd < 0)
		goto fail;
	step = "opendir";
	if ((d = fdopendir(dup(dirfd))) == NULL)
		goto fail;
	struct dirent *e;
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (!is_source(dirfd, e))
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			char **more = realloc(names, cap * sizeof(*names));
			if (more == NULL)
				goto fail;
			names = more;
		}
		if ((names[count] = strdup(e->d_name)) == NULL)
			goto fail;
		count++;
	}
	step = "readdir";
	if (errno != 0)
		goto fail;
	if (count == 0)
		goto done;
	step = TEMP;
	out = openat(dirfd, TEMP, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644);
	if (out < 0)
		goto fail;
	for (size_t i = 0; i < count; i++) {
		step = names[i];
		if (append_source(dirfd, names[i], out) < 0)
			goto fail;
	}
	step = "fsync";
	if (do_fsync && fsync(out) < 0)
		goto fail;
	step = "close";
	if (close(out) < 0) {
		out = -1;
		goto fail;
	}
	out = -1;
	step = "rename";
	if (renameat(dirfd, TEMP, dirfd, OUTPUT) < 0)
		goto fail;
	step = "fsync directory";
	if (do_fsync && fsync(dirfd) < 0)
		goto fail;
	if (remove_sources) {
		for (size_t i = 0; i < count; i++) {
			step = names[i];
			if (unlinkat(dirfd, names[i], 0) < 0)
				goto fail;
		}
		step = "fsync directory";
		if (do_fsync && fsync(dirfd) < 0)
			goto fail;
	}
done:
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	closedir(d);
	close(dirfd);
	return 0;
fail:
	fprintf(stderr, "floor: %s: %s: %s\n", path, step, strerror(errno));
	if (out >= 0) {
		close(out);
		unlinkat(dirfd, TEMP, 0);
	}
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (d != NULL)
		closedir(d);
	if (dirfd >= 0)
		close(dirfd);
	return -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: floor [-P N] [--remove] [--no-fsync] "
	    "< leaves\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long workers = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--remove") == 0)
			remove_sources = true;
		else if (strcmp(argv[i], "--no-fsync") == 0)
			do_fsync = false;
		else if (strcmp(argv[i], "-P") == 0 && i + 1 < argc) {
			char *end;
			workers = strtol(argv[++i], &end, 10);
			if (*end != '\0' || workers < 1 || workers > 256)
				usage();
		} else
			usage();
	}

	/* Read the whole list first: the workers then split it by index. */
	char **leaves = NULL, *line = NULL;
	size_t nleaves = 0, cap = 0, linecap = 0;
	ssize_t len;
	while ((len = getline(&line, &linecap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (nleaves == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((leaves = realloc(leaves, cap * sizeof(*leaves))) == NULL)
				return 4;
		}
		if ((leaves[nleaves++] = strdup(line)) == NULL)
			return 4;
	}
	free(line);

	int status = 0;
	for (long w = 0; w < workers; w++) {
		pid_t pid = workers == 1 ? 0 : fork();
		if (pid < 0) {
			perror("floor: fork");
			return 4;
		}
		if (pid > 0)
			continue;
		for (size_t i = (size_t)w; i < nleaves; i += (size_t)workers)
			if (floor_leaf(leaves[i]) < 0)
				status = 1;
		if (workers > 1)
			_exit(status);
	}
	int wstatus;
	while (workers > 1 && wait(&wstatus) > 0)
		if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
			status = 1;
	return status;
}
