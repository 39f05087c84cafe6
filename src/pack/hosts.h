/*
 * hosts.h - leafpack --hosts FILE: the per-leaf work spread over hosts.
 *
 * The leaves are found and filtered here (tree-scan -0 | leaf-filter -0,
 * children under their own deadlines, into a file of ours; with --leaves,
 * the arguments), then GNU parallel hands them in batches of -n to the
 * hosts of FILE (its --sshloginfile format, ':' this host), each job a
 * `leafpack --leaves --stats=json` with the run's options, run as the same
 * executable path as this one.  What makes a job safe anywhere is the
 * claim protocol: a job on a host that died is run again elsewhere
 * (parallel's --retries), and finishes what the first try left through its
 * claims; two jobs, or two runs, on one leaf leave it to the first.
 *
 * Before any work, every host but this one (':') passes a check, at once
 * on all of them (parallel --nonall): it runs `leafpack --root-id ROOT...` there, which
 * must print what it prints here: the same version, and the same identity
 * of each root (rootid.h).  A host that cannot be reached, has no
 * leafpack at that path, runs another version, or sees another tree under
 * the same path, is named and left out; its work goes to the others.
 *
 * Bounds: each sshlogin is given ssh options that end a connection or a
 * session that stays silent --host-timeout (ConnectTimeout,
 * ServerAliveInterval a third of it, ServerAliveCountMax 3); a job whose
 * host stops answering fails with 255, and parallel runs it again on a
 * host where it has not failed.  A job that hangs while its host answers
 * is bounded by that host's leafpack (-t on every call on the share).
 * parallel's --timeout is not used: with --retries, parallel 20221122 marks
 * a retry that succeeded as failed once the first try's timeout passes
 * (tests/lib/hosts.sh).  Each job reports its leafpack status on its last
 * line, and exits 0 for every status of leafpack's own, so that parallel
 * retries the failures of a host (ssh's 255, a signal, 127), not a leaf's.
 *
 * Each job's --stats=json (parallel tags its lines with the job's number)
 * is added to the totals and, through the job log (the host that ran the
 * job's last try), to its host's line in the summary; a small wrapper of
 * ours around each sshlogin counts the tries a host lost (ssh's 255), so
 * that a host lost in the middle is named too.
 */
#ifndef LEAFPACK_PACK_HOSTS_H
#define LEAFPACK_PACK_HOSTS_H

#include "context.h"

/*
 * The run of leafpack --hosts FILE.  Returns the exit status: the worst of
 * the scan's, the filter's and the jobs' (0, 1, 3 or 4: 4 when a job failed
 * on every host it was tried on, or no host passed the check), or 128 +
 * the signal that stopped it.
 */
int hosts_run(struct context *ctx);


#endif
