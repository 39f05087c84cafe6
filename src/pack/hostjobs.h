/*
 * hostjobs.h - the second phase of leafpack --hosts (hosts.h): GNU
 * parallel runs `leafpack --leaves --stats=json` in batches of -n over the
 * hosts that passed the check, each job's report (tagged with its number)
 * added to the totals and, through the job log, to the host that ran its
 * last try; a host whose wrapper counted a lost try (ssh's 255) gets no
 * new job and is named.
 */
#ifndef LEAFPACK_PACK_HOSTJOBS_H
#define LEAFPACK_PACK_HOSTJOBS_H

#include "hostsrun.h"

/* How many leaves the file at path holds (NUL-terminated); -1 (said). */
long long hostjobs_count_leaves(const char *path);

/*
 * The jobs over the hosts that passed (those whose why is NULL), the
 * leaves being DIR/leaves, leaves of them.  Sets r->status (the worst of
 * the jobs', 4 for a job that failed on every host it was tried on) and
 * r->stopping.  -1 (said) when parallel could not be run at all.
 */
int hostjobs_run(struct hosts_run *r, long long leaves);

#endif
