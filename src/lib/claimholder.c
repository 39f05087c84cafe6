/*
 * claimholder.c - whether the holder of a claim lives (see claimholder.h).
 */
#include "claimholder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xstd.h"

/* A holder on another host counts as alive for this long after it last
 * touched the journal: we cannot ask that host whether its pid lives. */
#define FOREIGN_TTL_NS (3600LL * 1000000000LL)

/* What /proc/PID/stat says of a process that is neither a zombie nor
 * dead. */
struct proc_facts {
	char comm[64];			/* its name (truncated) */
	long long ppid;			/* its parent */
	long long pgrp;			/* its process group */
	long long start_ticks;		/* when it started, after boot */
};

/*
 * Reads /proc/PID/stat ("pid (comm) S ppid pgrp ..."; comm may hold
 * anything, so the last ')' ends it) into *f.  Returns 1 when the process
 * lives and is not a zombie, 0 when there is no such process or it is a
 * zombie (killed, say with the leafpack that ran it, and not yet reaped by
 * init, which may take seconds: it holds no claim any more, though
 * kill(pid, 0) still succeeds), -1 when /proc does not tell (not mounted,
 * hidepid).
 */
static int
proc_facts(long long pid, struct proc_facts *f)
{
	char path[64], buf[1024], *paren, *p, *end;
	size_t len;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	n = xread(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 && errno == ESRCH ? 0 : -1;
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	if (paren == NULL || paren[1] != ' ' ||
	    (p = strchr(buf, '(')) == NULL || p > paren)
		return -1;
	if (paren[2] == 'Z' || paren[2] == 'X')
		return 0;
	len = (size_t)(paren - p - 1);
	if (len >= sizeof(f->comm))
		len = sizeof(f->comm) - 1;
	memcpy(f->comm, p + 1, len);
	f->comm[len] = '\0';
	/* Past the state (field 3): the parent, the group, and field 22,
	 * the start time in clock ticks after boot. */
	f->ppid = strtoll(paren + 3, &end, 10);
	f->pgrp = strtoll(end, &end, 10);
	for (field = 6; field < 22 && end != NULL; field++)
		end = strchr(end + 1, ' ');
	f->start_ticks = end != NULL ? strtoll(end, NULL, 10) : 0;
	return 1;
}

long long
claim_own_start_ticks(void)
{
	static long long ticks = -1;
	struct proc_facts f;

	if (ticks < 0)
		ticks = proc_facts(getpid(), &f) > 0 ? f.start_ticks : 0;
	return ticks;
}

/*
 * True when pid is a live process that is not a zombie and, when
 * start_ticks is known (not 0), started then: a pid that the kernel gave
 * again to a new process (pid_max may be only 32,768, and a busy host
 * wraps it in minutes) is not the holder that died.  A process /proc
 * says nothing of is alive: the safe side.
 */
bool
claim_pid_alive(long long pid, long long start_ticks)
{
	struct proc_facts f;
	int known;

	if (pid <= 0 || pid > INT_MAX)
		return false;
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		return false;
	if ((known = proc_facts(pid, &f)) <= 0)
		return known < 0;
	return start_ticks == 0 || f.start_ticks == 0 ||
	    f.start_ticks == start_ticks;
}

/*
 * True when process group pgid, not ours, has a jsonl-write that is not a
 * zombie.  The holder's json-merge may have exited while its jsonl-write
 * (same group: a shell pipeline, or leafpack's) still commits: that claim
 * is held, not abandoned.  Only a jsonl-write counts, or a leafpack whose
 * parent is a leafpack: the driver starts a leaf's json-merge first and
 * its jsonl-write after, in json-merge's group, so a json-merge of a small
 * leaf on a loaded machine can be done before its partner has left the
 * driver's fork for exec (seen: another run took the claim over, and the
 * partner met no claim).  That fork has joined json-merge's group, which is
 * not its parent's: a leafpack child in its parent's group is one of the
 * driver's helpers, and a script that claimed a leaf by hand and then ran
 * leafpack in the same group had its dead claim taken for held (seen in
 * pack_verify).  The group of a script without job control is the
 * script's, which lives on after its pipeline failed (maybe with a driver
 * in it): that is why nothing else counts.  Our own group is left out:
 * there, a dead holder is a pipeline of ours that failed before, never a
 * partner still at work.  Only asked when the holder itself is dead, so
 * the walk over /proc is rare.
 */
static bool
group_alive(long long pgid)
{
	struct proc_facts f, parent;
	struct dirent *de;
	bool alive = false;
	char *end;
	long long pid;
	DIR *proc;

	if (pgid <= 1 || pgid > INT_MAX || pgid == (long long)getpgrp())
		return false;
	if (kill(-(pid_t)pgid, 0) < 0 && errno != EPERM)
		return false;
	if ((proc = opendir("/proc")) == NULL)
		return true;	/* it has members: say held, the safe side */
	while (!alive && (de = readdir(proc)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtoll(de->d_name, &end, 10);
		if (*end != '\0' || proc_facts(pid, &f) <= 0 ||
		    f.pgrp != pgid)
			continue;
		if (strcmp(f.comm, "jsonl-write") == 0)
			alive = true;
		else if (strcmp(f.comm, "leafpack") == 0)
			alive = proc_facts(f.ppid, &parent) > 0 &&
			    strcmp(parent.comm, "leafpack") == 0 &&
			    parent.pgrp != f.pgrp;
	}
	closedir(proc);
	return alive;
}

bool
claim_holder_alive(const struct journal *j)
{
	struct timespec now;
	long long now_ns;

	if (j->state == JOURNAL_COMMITTED)
		return false;
	if (j->host != NULL && strcmp(j->host, journal_this_host()) == 0)
		return j->pid != getpid() && (claim_pid_alive(j->pid,
		    j->start_ticks) ||
		    group_alive(j->pgid));
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	return now_ns - j->file_mtime_ns < FOREIGN_TTL_NS;
}

bool
claim_is_ours(const struct journal *j)
{
	return j->state != JOURNAL_COMMITTED && j->host != NULL &&
	    strcmp(j->host, journal_this_host()) == 0 && j->pid == getpid();
}
