#!/usr/bin/env python3
"""Turns what bench/run.sh measured into bench/RESULTS.md (and prints it).

    report.py WORKDIR RESULTS.md COMMAND

Reads WORKDIR/results.tsv (section, contender, variant, run, status,
elapsed, user, sys, peak RSS in KiB), verdicts.tsv, missing.tsv and
trees.tsv.  Times are medians over the runs that succeeded; each ratio is
computed run by run against the reference measured in the same run, then
the median of those ratios is shown.
"""
import datetime
import os
import platform
import statistics
import subprocess
import sys
from collections import defaultdict

REFERENCE = {"consolidation": ("leafpack-P2", "floor-P2"),
             "scanning": ("tree-scan-j2", "walk"),
             "sick": ("tree-scan-j4", None),
             "memory": ("json-merge-64M", None)}
LABEL = {
    "leafpack-P1": "leafpack -P 1", "leafpack-P2": "leafpack -P 2",
    "python-threads": "seed Python, 4 threads",
    "python-procs": "seed Python, process pool (2)",
    "jq": "jq -s per leaf, xargs -P 2", "mlr": "Miller per leaf, xargs -P 2",
    "floor-P1": "floor -P 1 (fsync)", "floor-P2": "floor -P 2 (fsync)",
    "floor-nofsync-P2": "floor -P 2, no fsync",
    "walk": "bare readdir walk (bench/walk.c)",
    "tree-scan-j1": "tree-scan -j 1", "tree-scan-j2": "tree-scan -j 2",
    "tree-scan-j4": "tree-scan -j 4", "find": "find -type d",
    "fdfind": "fdfind -HI -t d", "bfs": "bfs -type d",
    "python-walk": "Python os.walk", "python-threads-scan":
    "seed threaded scan (4 threads)",
    "json-merge-64M": "json-merge --memory 64M",
    "json-merge": "json-merge (default --memory)",
    "python-leaf": "seed Python (json.load, sort, dumps)",
}


def read_tsv(path):
    try:
        with open(path) as f:
            return [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except OSError:
        return []


def machine(workdir):
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    fs = subprocess.run(["df", "-PT", workdir], capture_output=True,
                        text=True).stdout.splitlines()[-1].split()
    return ("%d cores (%s), %.1f GiB RAM, %s file system on %s, Linux %s" %
            (os.cpu_count(), cpu, mem_kb / 1048576, fs[1], fs[0],
             platform.release()))


def fmt_time(t):
    return "%.3f" % t if t < 10 else "%.1f" % t


def fmt_rate(n, t):
    if t <= 0:
        return "-"
    r = n / t
    return "%.0f" % r if r >= 100 else "%.1f" % r


class Results:
    def __init__(self, rows):
        # (section, name, variant) -> run -> (status, elapsed, user, sys, rss)
        self.runs = defaultdict(dict)
        self.order = []
        for section, name, variant, run, status, *rest in rows:
            key = (section, name, variant)
            if key not in self.runs:
                self.order.append(key)
            try:
                elapsed, user, system, rss = (float(x) for x in rest[:4])
            except ValueError:
                elapsed = user = system = rss = float("nan")
            self.runs[key][run] = (int(status), elapsed, user, system, rss)

    def max_runs(self):
        return max((len(r) for r in self.runs.values()), default=0)

    def ok_runs(self, key):
        return {r: v for r, v in self.runs.get(key, {}).items() if v[0] == 0}

    def median(self, key, field):
        ok = self.ok_runs(key)
        return statistics.median(v[field] for v in ok.values()) if ok else None

    def ratio(self, key, ref):
        """Median over runs of time(key) / time(ref) in the same run."""
        mine, theirs = self.ok_runs(key), self.ok_runs(ref)
        ratios = [mine[r][1] / theirs[r][1] for r in mine
                  if r in theirs and theirs[r][1] > 0]
        return statistics.median(ratios) if ratios else None

    def failures(self, key):
        runs = self.runs.get(key, {})
        bad = [v[0] for v in runs.values() if v[0] != 0]
        if not bad:
            return ""
        what = ("did not finish (stopped)" if bad[0] in (124, 137) else
                "failed (exit %d)" % bad[0])
        return what if len(bad) == len(runs) else "%d of %d runs %s" % (
            len(bad), len(runs), what)


def ratio_cell(res, key, ref_name):
    if ref_name is None:
        return "-"
    section, name, variant = key
    if name == ref_name:
        return "1"
    r = res.ratio(key, (section, ref_name, variant))
    return "-" if r is None else "%.2fx" % r


def table(res, verdicts, section, variant, units, amount, header_extra=""):
    ref, floor = REFERENCE[section]
    count, megabytes = amount
    head = ("| contender | median s | user s | sys s | peak RSS MB | %s/s | "
            % units + ("MB/s | " if megabytes else "") + "vs %s | " %
            LABEL.get(ref, ref) + ("vs %s | " % LABEL[floor] if floor else "")
            + "output |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    rank = list(LABEL)
    keys = sorted((k for k in res.order if k[0] == section and k[2] == variant),
                  key=lambda k: rank.index(k[1]) if k[1] in rank else len(rank))
    for key in keys:
        t = res.median(key, 1)
        verdict = verdicts.get(key, "")
        failed = res.failures(key)
        if t is None:
            cells = [LABEL.get(key[1], key[1]), failed or "failed"]
            cells += [""] * (head.count("|") - 4) + [verdict]
        else:
            cells = [LABEL.get(key[1], key[1]), fmt_time(t),
                     fmt_time(res.median(key, 2)),
                     fmt_time(res.median(key, 3)),
                     "%.0f" % (res.median(key, 4) / 1024),
                     fmt_rate(count, t)]
            if megabytes:
                cells.append(fmt_rate(megabytes, t))
            cells.append(ratio_cell(res, key, ref))
            if floor:
                cells.append(ratio_cell(res, key, floor))
            cells.append("; ".join(x for x in (verdict, failed) if x))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(res, trees):
    """The targets of issue 5 that these numbers speak to."""
    out = []

    def ratio(a, b, variant):
        return res.ratio((sec, a, variant), (sec, b, variant))

    sec = "consolidation"
    checks = [
        ("removing sources: leafpack -P 2 / floor -P 2", "leafpack-P2",
         "floor-P2", "remove", "<=", 1.5),
        ("keeping sources: leafpack -P 2 / floor -P 2", "leafpack-P2",
         "floor-P2", "keep", "<=", 2.0),
        ("keeping: seed Python threads / leafpack -P 2", "python-threads",
         "leafpack-P2", "keep", ">=", 15),
        ("keeping: seed Python processes / leafpack -P 2", "python-procs",
         "leafpack-P2", "keep", ">=", 6),
        ("keeping: jq / leafpack -P 2", "jq", "leafpack-P2", "keep", ">=", 20),
        ("removing: seed Python threads / leafpack -P 2", "python-threads",
         "leafpack-P2", "remove", ">=", 3.8),
        ("removing: jq / leafpack -P 2", "jq", "leafpack-P2", "remove", ">=",
         5),
    ]
    for text, a, b, variant, op, want in checks:
        r = ratio(a, b, variant)
        out.append(verdict_line(text, r, op, want))
    sec = "scanning"
    fastest = [res.median((sec, n, "list"), 1) for n in ("find", "fdfind", "bfs")]
    fastest = [t for t in fastest if t is not None]
    best = [res.median((sec, n, "list"), 1)
            for n in ("tree-scan-j1", "tree-scan-j2", "tree-scan-j4")]
    best = [t for t in best if t is not None]
    if fastest and best and min(fastest) > 0:
        out.append(verdict_line("tree-scan (best -j) / fastest of find, fd, bfs"
                                " (medians)", min(best) / min(fastest), "<=", 1.0))
    walk = res.median((sec, "walk", "list"), 1)
    if walk and best and walk > 0:
        out.append(verdict_line("tree-scan (best -j) / bare readdir walk "
                                "(medians)", min(best) / walk, "<=", 1.3))
    else:
        out.append("- tree-scan / walk: not measured")
    # The sick share: tree-scan finishes, the others must be stopped.
    finished = {k[1] for k in res.order if k[0] == "sick" and res.ok_runs(k)}
    if any(k[0] == "sick" for k in res.order):
        others = sorted(k[1] for k in res.order if k[0] == "sick" and
                        k[1] != "tree-scan-j4" and k[1] in finished)
        out.append("- sick share: tree-scan %s; %s" % (
            "finished" if "tree-scan-j4" in finished else "did NOT finish",
            "the others did not" if not others else
            "also finished: " + ", ".join(others)))
    bigleaf = trees.get("memory")
    t = res.median(("memory", "json-merge", "leaf"), 1)
    if bigleaf and t:
        out.append(verdict_line("json-merge (one process) MB/s on the big "
                                "leaf, parse + validate + sort + write",
                                float(bigleaf[3]) / t, ">=", 400, "MB/s"))
    else:
        out.append("- json-merge MB/s: not measured")
    rss = res.median(("memory", "json-merge-64M", "leaf"), 4)
    if rss:
        out.append(verdict_line("json-merge --memory 64M peak RSS (MiB)",
                                rss / 1024, "<=", 80, " MiB"))
    else:
        out.append("- json-merge --memory 64M peak RSS: not measured")
    return out


def verdict_line(text, r, op, want, unit="x"):
    if r is None:
        return "- %s: not measured" % text
    met = r <= want if op == "<=" else r >= want
    return "- %s: **%.2f%s** (target %s %g%s): %s" % (
        text, r, unit, op, want, unit, "met" if met else "NOT met")


def main(argv):
    workdir, out_path, command = argv[1], argv[2], argv[3]
    res = Results(read_tsv(os.path.join(workdir, "results.tsv")))
    verdicts = {tuple(v[:3]): v[3] for v in
                read_tsv(os.path.join(workdir, "verdicts.tsv")) if len(v) > 3}
    missing = read_tsv(os.path.join(workdir, "missing.tsv"))
    # A program may have been built while the benchmark ran.
    measured = {(k[0], k[1]) for k in res.order}
    missing = [m for m in missing if (m[0], m[1]) not in measured]
    trees = {t[0]: t[1:] for t in read_tsv(os.path.join(workdir, "trees.tsv"))}
    now = datetime.datetime.now(datetime.timezone.utc)
    doc = ["# make bench: results", "",
           "Generated by `%s` (bench/run.sh) on %s UTC." % (
               command, now.strftime("%Y-%m-%d %H:%M")),
           "Machine: %s; load average %s when the run began (other "
           "work on the machine slows every contender and adds noise)." % (
               machine(workdir), trees.get("load", ["?"])[0]),
           "Median of %d runs per contender (fewer where noted), contenders "
           "alternating run by run; ratios are medians of per-run ratios "
           "against the reference measured in the same run (above 1: slower "
           "than the reference)." % res.max_runs(), ""]

    if "tree" in trees:
        files, size, records, leaves, shape = trees["tree"]
        files, size, records = int(files), int(size), int(records)
        doc += ["## Consolidation", "",
                "Tree: %s (entities x types x dates x files x records): "
                "%s leaves, %d files, %.1f MB of JSON, %d records.  Each run "
                "gets a fresh `cp -a` copy, synced, not timed; the page cache "
                "stays warm." % (shape, leaves, files, size / 1e6, records), ""]
        for variant, title in (("keep", "Keeping the sources"),
                               ("remove", "Removing the sources")):
            doc += ["### " + title, "",
                    table(res, verdicts, "consolidation", variant, "files",
                          (files, size / 1e6)), ""]
    if "scan" in trees:
        dirs, leaves = trees["scan"]
        doc += ["## Scanning", "",
                "Tree: %s directories, %s leaves (2 small files each), warm "
                "cache; find, fd, bfs and os.walk list every directory, the "
                "others print the leaves." % (dirs, leaves), "",
                table(res, verdicts, "scanning", "list", "dirs",
                      (int(dirs), 0)), ""]
    for section, title, units in (("sick", "Sick share", "leaves"),
                                  ("memory", "Memory: one big leaf",
                                   "records")):
        if any(k[0] == section for k in res.order):
            # description, count, variant, megabytes
            info = trees.get(section, ["", "0", "list", "0"])
            doc += ["## " + title, "", info[0], "",
                    table(res, verdicts, section, info[2], units,
                          (float(info[1]), float(info[3]))), ""]
    lines = targets(res, trees)
    doc += ["## Targets of issue 5", ""] + lines + [""]
    if missing:
        doc += ["## Not available", ""] + [
            "- %s (%s): %s" % (LABEL.get(m[1], m[1]), m[0], m[2])
            for m in missing] + [""]
    doc += ["## How to read this", "",
            "- leafpack and the floor fsync each output and its directory "
            "before the rename is trusted (and the directory again after "
            "unlinking); the Python, jq and Miller contenders do not fsync "
            "at all, which flatters them.",
            "- Peak RSS is the largest single process of a contender "
            "(/usr/bin/time %M), not the sum over its processes.  User and "
            "sys CPU count only processes that were waited for: the CPU of "
            "a worker its parent kills without reaping is missing.",
            "- *output*: `bytes` = every record byte-identical to its source "
            "(whitespace outside strings aside); `values` = same records, "
            "re-serialised; WRONG counts records lost, doubled or altered "
            "(jq 1.6 rounds integers beyond 2^53; Miller turns them into "
            "strings).  *instant order* compares timestamps as instants; "
            "sorting the strings, as the seed script, jq and Miller do, "
            "misorders mixed offsets (+02:00 vs Z) and precisions.",
            "- The floor (bench/floor.c) does no JSON work: it reads every "
            "source once, writes it to one output per leaf and commits like "
            "jsonl-write; it is the least any tool must spend.",
            "- Total wall time of this `make bench`: %s s." %
            trees.get("elapsed", ["?"])[0], ""]
    text = "\n".join(doc)
    with open(out_path, "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
