/*
 * walk - the floor for scanning: a bare, single-process readdir walk that
 * prints every leaf directory (one with no subdirectories) under ROOT.
 *
 *     walk ROOT...
 *
 * No timeouts, no workers, no cycle detection, no sorting: the least work
 * that finds the leaves, so that tree-scan's overhead can be read off
 * against it.  Symbolic links are not followed (O_NOFOLLOW, d_type), and
 * DT_UNKNOWN falls back to fstatat() as tree-scan must.  Depth-first with an
 * explicit stack, so deep trees cost heap, not C stack.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char **stack;
static size_t depth, capacity;
static int status;

static void
push(char *path)
{
	if (depth == capacity) {
		capacity = capacity ? capacity * 2 : 1024;
		stack = realloc(stack, capacity * sizeof(*stack));
		if (stack == NULL) {
			perror("walk: realloc");
			exit(4);
		}
	}
	stack[depth++] = path;
}

static char *
join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);
	if (p == NULL) {
		perror("walk: malloc");
		exit(4);
	}
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

/* Pushes the subdirectories of path; returns whether it had any. */
static bool
read_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "walk: %s: %s\n", path, strerror(errno));
		status = 1;
		return true;	/* not a leaf we could vouch for */
	}
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		fprintf(stderr, "walk: %s: %s\n", path, strerror(errno));
		close(fd);
		status = 1;
		return true;
	}
	bool subdirs = false;
	struct dirent *e;
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
		    (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		bool is_dir = e->d_type == DT_DIR;
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;
			is_dir = fstatat(fd, e->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
		}
		if (is_dir) {
			push(join(path, e->d_name));
			subdirs = true;
		}
	}
	if (errno != 0) {
		fprintf(stderr, "walk: %s: %s\n", path, strerror(errno));
		status = 1;
	}
	closedir(d);
	return subdirs;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: walk ROOT...\n");
		return 2;
	}
	for (int i = argc - 1; i >= 1; i--) {
		char *root = strdup(argv[i]);
		if (root == NULL) {
			perror("walk: strdup");
			return 4;
		}
		push(root);
	}
	while (depth > 0) {
		char *path = stack[--depth];
		if (!read_dir(path)) {
			fputs(path, stdout);
			putchar('\n');
		}
		free(path);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("walk: stdout");
		return 4;
	}
	return status;
}
