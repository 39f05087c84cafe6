/*
 * leafpack - the whole job in one command: tree-scan, then for each leaf
 * json-merge [| jq -c FILTER] | jsonl-write, -P leaves at once, each stage
 * its own process (json-merge first looks whether the leaf has anything
 * new).
 *
 * The driver owns no data and reads no journal: it starts the programs,
 * connects them with pipes, relays their stderr, reads their --stats=json
 * and reports, and decides, for each leaf of the per-leaf pipeline, whether
 * jsonl-write may commit.  What touches a leaf is done by the stage that
 * already is in it.
 *
 * - main(): this file; ensures fds 0-2, parses into a context, runs, frees
 *     - pack/context.[ch]   the options, checked with the children's limits,
 *                           and the argv of each child, built once
 *     - pack/child.[ch]     a child: its argv (with a hole filled at each
 *                           start), its start, its pid, status and stderr
 *
 * - run(): round after round until no leaf is left
 *     - pack/run.[ch]       the rounds: signals, finished leaves, new leaves,
 *                           one wait, reaping, reading
 *     - pack/loop.[ch]      the event loop: the poll set on the heap, the
 *                           self-pipe for signals, reaping with WNOHANG: the
 *                           one place that waits
 *     - pack/finder.[ch]    tree-scan (or --leaves), which finds the
 *                           leaves, and its stalled list
 *     - pack/backlog.[ch]   the leaves found and wanted by name, waiting
 *                           for a slot
 *     - pack/pace.[ch]      the slots in use, following the share's
 *                           latency, and --max-rate
 *     - pack/slot.[ch]      one of the -P slots, and the interface of its
 *                           three backends
 *     - pack/streampair.[ch]  backend: one json-merge -0 | jsonl-write pair
 *                           per slot, for leaf after leaf (no --jq, no
 *                           --dry-run)
 *     - pack/pipeline.[ch]  backend: json-merge [| jq] | jsonl-write for
 *                           each leaf (--jq, --dry-run), poisoned when a
 *                           stage before jsonl-write failed
 *     - pack/verifier.[ch]  backend: jsonl-verify for each leaf
 *                           (--verify), changing nothing
 *     - pack/relay.[ch]     a child's stderr passed through; its last line,
 *                           a JSON object, kept as its stats
 *     - pack/summary.[ch]   totals, each leaf's verdict, the status line,
 *                           the final text or --stats=json, --stalled FILE
 *
 * - hosts_run(): with --hosts, instead of run(): the leaves found and
 *   filtered here, their work spread over hosts by GNU parallel
 *     - pack/hosts.[ch]     the hosts checked, tree-scan | leaf-filter
 *                           into a file, then the jobs, then the summary
 *     - pack/hostjobs.[ch]  the jobs: parallel running leafpack --leaves
 *                           on the hosts, each job's report added up per
 *                           host, lost hosts dropped and named
 *     - pack/hostproc.[ch]  the processes of --hosts, their lines read,
 *                           all waited for in the event loop
 *     - pack/hostsrun.h     the state of a --hosts run, shared by hosts.c
 *                           and hostjobs.c only
 *     - pack/rootid.[ch]    --root-id, what each host must print as this
 *                           one does (the same version, the same tree)
 *
 * - Shared with the other programs (src/lib): cli.h (options and limits),
 *   leafstream.h (the reports and stats of json-merge and jsonl-write),
 *   stats.h (--stats=json), spawn.h, xstd.h, alloc.h, diag.h, exitcode.h,
 *   pathstream.h, progress.h.
 *
 * A leaf's walk: tree-scan finds it (finder), it waits in the backlog if
 * its name is wanted, a slot takes it when the pace allows and hands it to
 * its backend, whose json-merge looks whether it has anything new, claims
 * and merges it, and whose jsonl-write commits it and reports (relay, or
 * the pair's report line); the slot's result goes to the summary, and the
 * slot takes the next leaf.  Every call those two make on the share is
 * watched (slot_check): one that hangs costs its leaf, never the run.
 */
#include "context.h"
#include "exitcode.h"
#include "diag.h"
#include "hosts.h"
#include "rootid.h"
#include "run.h"
#include "xstd.h"

int
main(int argc, char *argv[])
{
	struct context ctx;
	int status;

	diag_init(argv[0]);
	/* No pipe of ours may land on a standard descriptor. */
	if (open_std_fds() < 0)
		return EXITCODE_FAILED;
	context_parse(&ctx, argc, argv);
	if (ctx.root_id)
		status = rootid_print(&ctx);
	else if (ctx.hosts_file != NULL)
		status = hosts_run(&ctx);
	else
		status = run(&ctx);
	context_free(&ctx);
	return status;
}
