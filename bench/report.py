#!/usr/bin/env python3
"""Turns what bench/run.sh measured into bench/RESULTS.md (and prints it).

    report.py WORKDIR RESULTS.md COMMAND

Reads WORKDIR/results.tsv (section, contender, variant, run, status,
elapsed, user, sys, peak RSS in KiB), verdicts.tsv, trees.tsv and, for the
slow share, counts.tsv (section, contender, variant, run, the path of
stallfs's --count file of that run).  Times are medians over the runs that
succeeded; each ratio is computed run by run against the reference
measured in the same run, then the median of those ratios is shown.  A run
that failed, was stopped or left its work undone ("incomplete") has no
time: a contender none of whose runs succeeded shows why instead of one.
"""
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
from collections import defaultdict

REFERENCE = {"consolidation": ("leafpack-P2", "floor-P2"),
             "scanning": ("tree-scan-j2", "walk"),
             "sick": ("tree-scan-j4", None),
             "memory": ("json-merge-64M", None),
             "sources": ("leafpack-4M", None)}
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
    "leafpack-4M": "leafpack --memory 4M (removing)",
    "merge-write-4M": "json-merge --memory 4M into jsonl-write (keeping)",
    "merge-write-again-4M": "the same again, --remove-sources (all held)",
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
    """The runs of every contender, as bench/run.sh recorded them."""

    def __init__(self, rows):
        # (section, name, variant) -> run -> (status, elapsed, user, sys, rss)
        # status: 0 (success), an exit status, or "incomplete".
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
            status = int(status) if status.lstrip("-").isdigit() else status
            self.runs[key][run] = (status, elapsed, user, system, rss)

    def max_runs(self, sections):
        return max((len(r) for k, r in self.runs.items() if k[0] in sections),
                   default=0)

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
        """What went wrong in the runs of key: "" when nothing did."""
        runs = self.runs.get(key, {})
        bad = [v[0] for v in runs.values() if v[0] != 0]
        if not bad:
            return ""
        kinds = []
        for status in bad:
            what = ("did not finish (stopped)" if status in (124, 137) else
                    "left its work undone (exit 0)" if status == "incomplete"
                    else "failed (exit %s)" % status)
            if what not in kinds:
                kinds.append(what)
        what = ", ".join(kinds)
        return what if len(bad) == len(runs) else "%d of %d runs %s" % (
            len(bad), len(runs), what)


def time_cell(res, key):
    """The median wall time, or, in bold, why there is none: a contender
    that failed never shows a time that could pass for a fast one."""
    t, failed = res.median(key, 1), res.failures(key)
    if t is None:
        return "**%s**" % (failed or "not run")
    return fmt_time(t) + (" (**%s**)" % failed if failed else "")


def ratio_cell(res, key, ref_name):
    if ref_name is None:
        return "-"
    section, name, variant = key
    if name == ref_name:
        return "1"
    r = res.ratio(key, (section, ref_name, variant))
    return "-" if r is None else "%.2fx" % r


def sorted_keys(res, section, variant, rank):
    return sorted((k for k in res.order if k[0] == section and k[2] == variant),
                  key=lambda k: rank.index(k[1]) if k[1] in rank else len(rank))


def table(res, verdicts, section, variant, units, amount):
    ref, floor = REFERENCE[section]
    count, megabytes = amount
    head = ("| contender | median s | user s | sys s | peak RSS MB | %s/s | "
            % units + ("MB/s | " if megabytes else "") + "vs %s | " %
            LABEL.get(ref, ref) + ("vs %s | " % LABEL[floor] if floor else "")
            + "output |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for key in sorted_keys(res, section, variant, list(LABEL)):
        t = res.median(key, 1)
        cells = [LABEL.get(key[1], key[1]), time_cell(res, key)]
        if t is None:
            cells += [""] * (head.count("|") - 4)
        else:
            cells += [fmt_time(res.median(key, 2)),
                      fmt_time(res.median(key, 3)),
                      "%.0f" % (res.median(key, 4) / 1024),
                      fmt_rate(count, t)]
            if megabytes:
                cells.append(fmt_rate(megabytes, t))
            cells.append(ratio_cell(res, key, ref))
            if floor:
                cells.append(ratio_cell(res, key, floor))
        cells.append(verdicts.get(key, ""))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# stallfs answers these at once, without its delay: on a network share
# forget does not exist, and the test share charges no round trip for them.
UNDELAYED = ("forget", "release", "releasedir")


class SlowShare:
    """The slow-share section: its tree, leafpack's default -P, and the
    requests stallfs counted in every run."""

    SEED = "python-threads"

    def __init__(self, res, info, count_rows):
        self.res = res
        self.shape, leaves, files, size, parallel, self.how = info
        self.leaves, self.files = int(leaves), int(files)
        self.megabytes, self.parallel = int(size) / 1e6, int(parallel)
        self.curve = sorted({int(k[1][len("leafpack-P"):]) for k in res.order
                             if k[0] == "slow" and
                             k[1].startswith("leafpack-P")})
        self.variants = []
        self.ops = {}   # (name, variant, run) -> stallfs's counts
        for _, name, variant, run, path in count_rows:
            if variant not in self.variants:
                self.variants.append(variant)
            try:
                with open(path) as f:
                    self.ops[(name, variant, run)] = json.load(f)
            except (OSError, ValueError):
                pass

    def concurrency(self, name):
        """The -P a contender runs at: the floor's to compare it with."""
        if name.startswith(("leafpack-P", "floor-P")):
            return int(name.rsplit("P", 1)[1])
        return 4 if name.startswith("python") else self.parallel

    def label(self, name):
        if name == "leafpack":
            return "leafpack (defaults: -P %d)" % self.parallel
        if name.startswith("leafpack-P"):
            return "leafpack -P %s" % name[len("leafpack-P"):]
        if name.startswith("floor-P"):
            p = int(name[len("floor-P"):])
            return "floor -P %d%s" % (p, " (leafpack's default)"
                                      if p == self.parallel else "")
        return {"python-threads": "seed Python, 4 threads",
                "python-procs": "seed Python, 4 processes",
                "jq": "jq -s per leaf, xargs -P %d" % self.parallel}.get(
                    name, name)

    def rank(self):
        floors = sorted(set(self.curve) | {self.parallel})
        return (["leafpack"] + ["leafpack-P%d" % p for p in self.curve] +
                ["floor-P%d" % p for p in floors] +
                ["python-threads", "python-procs", "jq"])

    def counted(self, name, variant):
        """stallfs's counts of the runs of name that succeeded."""
        ok = self.res.ok_runs(("slow", name, variant))
        return [(ok[r], self.ops[(name, variant, r)]) for r in sorted(ok)
                if (name, variant, r) in self.ops]

    @staticmethod
    def delayed(counts):
        return counts["requests"] - sum(counts["ops"].get(op, 0)
                                        for op in UNDELAYED)

    def per_file(self, name, variant):
        runs = self.counted(name, variant)
        return (statistics.median(self.delayed(c) for _, c in runs) /
                self.files if runs else None)

    def per_second(self, name, variant):
        runs = self.counted(name, variant)
        return statistics.median(self.delayed(c) / run[1] for run, c in runs
                                 if run[1] > 0) if runs else None

    def in_flight(self, name, variant):
        runs = self.counted(name, variant)
        return "%d" % statistics.median(c["max_in_flight"] for _, c in runs) \
            if runs else "-"

    def vs_floor(self, name, variant):
        return self.res.ratio(("slow", name, variant),
                              ("slow", "floor-P%d" % self.concurrency(name),
                               variant))

    def vs_seed(self, name, variant):
        return self.res.ratio(("slow", name, variant),
                              ("slow", self.SEED, variant))

    def per_file_vs_floor(self, name, variant):
        mine = self.per_file(name, variant)
        floor = self.per_file("floor-P%d" % self.concurrency(name), variant)
        return mine / floor if mine and floor else None

    def table(self, verdicts, variant):
        head = ("| contender | in flight (max) | median s | user s | sys s | "
                "vs floor, same -P | vs seed Python, 4 threads | "
                "requests/s | requests per file | vs floor's per file | "
                "output |")
        lines = [head, "|" + "---|" * (head.count("|") - 1)]
        for key in sorted_keys(self.res, "slow", variant, self.rank()):
            cells = self.row(key) + [verdicts.get(key, "")]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def row(self, key):
        """A contender's cells; leafpack's at its defaults, at 1 ms, say
        whether they meet issue 11's targets."""
        _, name, variant = key
        cells = [self.label(name), self.in_flight(name, variant),
                 time_cell(self.res, key)]
        if self.res.median(key, 1) is None:
            return cells + [""] * 7
        targeted = name == "leafpack" and variant == "1ms"
        floor = name == "floor-P%d" % self.concurrency(name)

        def shown(value, form, *target):
            if value is None:
                return "-"
            return target_cell(value, *target) if target and targeted \
                else form % value
        return cells + [
            fmt_time(self.res.median(key, 2)),
            fmt_time(self.res.median(key, 3)),
            "1" if floor else
            shown(self.vs_floor(name, variant), "%.2fx", "<=", 1.2),
            "1" if name == self.SEED else
            shown(self.vs_seed(name, variant), "%.2fx", "<=", 1 / 8,
                  "8x faster"),
            shown(self.per_second(name, variant), "%.0f"),
            shown(self.per_file(name, variant), "%.1f"),
            "1" if floor else
            shown(self.per_file_vs_floor(name, variant), "%.2fx", "<=", 1.3)]

    def ops_table(self, variant):
        """Requests per source file by operation: leafpack at its defaults
        against the floor at the same -P (their first successful runs)."""
        floor = "floor-P%d" % self.parallel
        mine, theirs = (self.counted(n, variant) for n in ("leafpack", floor))
        if not mine or not theirs:
            return None
        a, b = mine[0][1]["ops"], theirs[0][1]["ops"]
        ops = sorted((op for op in set(a) | set(b) if a.get(op) or b.get(op)),
                     key=lambda op: (b.get(op, 0) - a.get(op, 0), op))
        lines = ["| operation | leafpack (defaults) | %s | leafpack - floor |"
                 % self.label(floor), "|---|---|---|---|"]
        for op in ops:
            x, y = a.get(op, 0) / self.files, b.get(op, 0) / self.files
            lines.append("| %s%s | %.2f | %.2f | %+.2f |" % (
                op, " (not delayed)" if op in UNDELAYED else "", x, y, x - y))
        x, y = (self.delayed(c[0][1]) / self.files for c in (mine, theirs))
        lines.append("| **all delayed** | %.2f | %.2f | %+.2f |" % (x, y,
                                                                   x - y))
        return "\n".join(lines)

    def targets(self):
        """Issue 11's targets on the slow share (1 ms per request)."""
        v, out = "1ms", []
        if v not in self.variants:
            return ["- slow share at 1 ms: not measured"]
        why = self.res.failures(("slow", "leafpack", v))
        floor = self.label("floor-P%d" % self.parallel)
        out.append(verdict_line("slow share, 1 ms: leafpack (defaults) / %s"
                                % floor, self.vs_floor("leafpack", v), "<=",
                                1.2, why=why))
        r = self.vs_seed("leafpack", v)
        out.append(verdict_line("slow share, 1 ms: seed Python 4 threads / "
                                "leafpack (defaults)", 1 / r if r else None,
                                ">=", 8, why=why))
        out.append(verdict_line("slow share, 1 ms: requests per source file, "
                                "leafpack (defaults) / %s" % floor,
                                self.per_file_vs_floor("leafpack", v), "<=",
                                1.3, why=why))
        out.append(self.curve_line(v))
        return out

    def curve_line(self, variant):
        """Wall time near 1/P up to -P 32, read as: each -P up to 32 at least
        half the ideal speed-up over -P 1."""
        base = self.res.median(("slow", "leafpack-P1", variant), 1)
        points = [p for p in self.curve if 1 < p <= 32]
        if not base or not points:
            return "- slow share, 1 ms: leafpack's curve: not measured"
        parts, met = [], True
        for p in points:
            t = self.res.median(("slow", "leafpack-P%d" % p, variant), 1)
            if t is None:
                parts.append("-P %d failed" % p)
                met = False
                continue
            parts.append("-P %d: **%.1fx** (ideal %d)" % (p, base / t, p))
            met = met and base / t >= p / 2
        return ("- slow share, 1 ms: leafpack's wall time near 1/P up to "
                "-P 32, speed-up over -P 1 (read as met when at least half "
                "the ideal): %s: %s" % ("; ".join(parts),
                                        "met" if met else "**NOT met**"))


def target_cell(value, op, want, gloss=""):
    """A ratio with the target it is held to and whether it meets it."""
    met = value <= want if op == "<=" else value >= want
    return "%.2fx (target %s %.3gx%s: %s)" % (
        value, op, want, ", " + gloss if gloss else "",
        "met" if met else "**NOT met**")


def local_targets(res, trees):
    """Issue 11's targets on the warm local disk and the big leaf."""
    sec = "consolidation"
    out = []
    for variant, want in (("remove", 1.2), ("keep", 1.3)):
        if not ran(res, sec):
            break
        key = (sec, "leafpack-P2", variant)
        out.append(verdict_line(
            "warm local disk, %s sources: leafpack -P 2 / floor -P 2" % (
                "removing" if variant == "remove" else "keeping"),
            res.ratio(key, (sec, "floor-P2", variant)), "<=", want,
            why=res.failures(key)))
    if ran(res, "memory"):
        out.append(merge_speed_line(res, trees))
    return out


def merge_speed_line(res, trees):
    bigleaf = trees.get("memory")
    key = ("memory", "json-merge", "leaf")
    t = res.median(key, 1)
    return verdict_line("json-merge (one process) MB/s on the big leaf, parse"
                        " + validate + sort + write",
                        float(bigleaf[3]) / t if bigleaf and t else None,
                        ">=", 400, "MB/s", why=res.failures(key))


def ran(res, section):
    return any(k[0] == section for k in res.order)


def issue5_targets(res, trees):
    """The targets of issue 5 that these numbers speak to."""
    out = []
    sec = "consolidation"
    checks = [] if not ran(res, sec) else [
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
        mine, ref = (sec, a, variant), (sec, b, variant)
        out.append(verdict_line(text, res.ratio(mine, ref), op, want,
                                why=res.failures(mine) or res.failures(ref)))
    sec = "scanning"
    if ran(res, sec):
        out += scan_targets(res)
    # The sick share: tree-scan finishes, the others must be stopped.
    finished = {k[1] for k in res.order if k[0] == "sick" and res.ok_runs(k)}
    if ran(res, "sick"):
        others = sorted(k[1] for k in res.order if k[0] == "sick" and
                        k[1] != "tree-scan-j4" and k[1] in finished)
        out.append("- sick share: tree-scan %s; %s" % (
            "finished" if "tree-scan-j4" in finished else "did NOT finish",
            "the others did not" if not others else
            "also finished: " + ", ".join(others)))
    if ran(res, "memory"):
        out.append(merge_speed_line(res, trees))
        rss = res.median(("memory", "json-merge-64M", "leaf"), 4)
        out.append(verdict_line("json-merge --memory 64M peak RSS (MiB)",
                                rss / 1024 if rss else None, "<=", 80,
                                " MiB"))
    return out


def issue14_targets(res, trees):
    """Issue 14, bug 2: a leaf of very many sources within --memory 4M +
    16 MiB, in every contender of leafpack's."""
    out = []
    if not ran(res, "sources"):
        return out
    files = trees.get("sources", ["", "?"])[1]
    for name in ("leafpack-4M", "merge-write-4M", "merge-write-again-4M"):
        key = ("sources", name, "leaf")
        rss = res.median(key, 4)
        out.append(verdict_line("%s files, %s: peak RSS (MiB)" % (
            files, LABEL[name]), rss / 1024 if rss else None, "<=", 20,
            " MiB", why=res.failures(key)))
    return out


def scan_targets(res):
    sec, out = "scanning", []
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
        out.append("- tree-scan / walk: **not measured**")
    return out


def verdict_line(text, r, op, want, unit="x", why=""):
    if r is None or math.isnan(r):
        return "- %s: **not measured**%s" % (text, " (%s)" % why if why else "")
    met = r <= want if op == "<=" else r >= want
    return "- %s: **%.2f%s** (target %s %g%s): %s" % (
        text, r, unit, op, want, unit, "met" if met else "**NOT met**")


def header(res, trees, command, workdir):
    now = datetime.datetime.now(datetime.timezone.utc)
    local = res.max_runs(("consolidation", "scanning", "sick", "memory",
                          "sources"))
    slow = res.max_runs(("slow",))
    runs = []
    if local:
        runs.append("%d runs" % local)
    if slow:
        runs.append("%d run%s on the slow share" % (slow, "s" * (slow > 1)))
    return ["# make bench: results", "",
            "Generated by `%s` (bench/run.sh) on %s UTC." % (
                command, now.strftime("%Y-%m-%d %H:%M")),
            "Machine: %s; load average %s when the run began (other "
            "work on the machine slows every contender and adds noise)." % (
                machine(workdir), trees.get("load", ["?"])[0]),
            "Median of %s per contender (fewer where noted), contenders "
            "alternating run by run; ratios are medians of per-run ratios "
            "against the reference measured in the same run (above 1: slower "
            "than the reference).  A contender that failed, was stopped or "
            "left its work undone shows that, in bold, instead of a time." % (
                ", ".join(runs)), ""]


def local_sections(res, verdicts, trees):
    doc = []
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
                                   "records"),
                                  ("sources", "Memory: one leaf of many "
                                   "sources", "files")):
        if ran(res, section):
            # description, count, variant, megabytes
            info = trees.get(section, ["", "0", "list", "0"])
            doc += ["## " + title, "", info[0], "",
                    table(res, verdicts, section, info[2], units,
                          (float(info[1]), float(info[3]))), ""]
    return doc


def slow_section(slow, verdicts):
    doc = ["## Slow share", "",
           "Tree: %s (entities x types x dates x files x records): %d "
           "leaves, %d files, %.1f MB, behind tests/bin/stallfs with "
           "`--delay-ms` per request (a network share: every request a "
           "round trip); every contender removes the sources.  Each run gets "
           "a fresh copy of the tree, stallfs mounted over it and its own "
           "`--count` file; outputs are checked on the copy after the "
           "unmount.  leafpack's default -P here: %d (%s)." % (
               slow.shape, slow.leaves, slow.files, slow.megabytes,
               slow.parallel, slow.how), "",
           "*in flight*: the most requests stallfs held at once (its "
           "max_in_flight).  *requests*: those stallfs delayed, every "
           "operation but %s (answered at once); per second over the "
           "contender's wall time, per source file of the tree.  *vs floor, "
           "same -P*: against the floor at the contender's concurrency (the "
           "seed Python: 4; jq: xargs -P %d)." % (", ".join(UNDELAYED),
                                                  slow.parallel), ""]
    for variant in slow.variants:
        doc += ["### %s ms per request" % variant[:-2], "",
                slow.table(verdicts, variant), ""]
    first = "1ms" if "1ms" in slow.variants else (slow.variants or [None])[0]
    ops = slow.ops_table(first) if first else None
    if ops:
        doc += ["### Requests per source file by operation (%s ms)" %
                first[:-2], "",
                "From stallfs's counts of one run each: where leafpack "
                "spends round trips the floor does not.", "", ops, ""]
    return doc


def footer(trees):
    return ["## How to read this", "",
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
            "misorders mixed offsets (+02:00 vs Z) and precisions.  The "
            "output is checked after the first run; after every run a quick "
            "count (outputs, sources left, lines listed) makes a run that "
            "did not do its work count as failed.",
            "- The floor (bench/floor.c) does no JSON work: it reads every "
            "source once, writes it to one output per leaf and commits like "
            "jsonl-write; it is the least any tool must spend.",
            "- The default `make bench` runs small trees, 2 runs each: on "
            "the local disk a run lasts well under a second, so its ratios "
            "there are noisy and show a direction only; `make bench FULL=1` "
            "runs the sizes the targets are judged by.",
            "- Total wall time of this `make bench`: %s s." %
            trees.get("elapsed", ["?"])[0], ""]


def main(argv):
    workdir, out_path, command = argv[1], argv[2], argv[3]
    res = Results(read_tsv(os.path.join(workdir, "results.tsv")))
    verdicts = {tuple(v[:3]): v[3] for v in
                read_tsv(os.path.join(workdir, "verdicts.tsv")) if len(v) > 3}
    trees = {t[0]: t[1:] for t in read_tsv(os.path.join(workdir, "trees.tsv"))}
    slow = None
    if "slow" in trees:
        slow = SlowShare(res, trees["slow"],
                         read_tsv(os.path.join(workdir, "counts.tsv")))
    doc = header(res, trees, command, workdir)
    doc += local_sections(res, verdicts, trees)
    if slow:
        doc += slow_section(slow, verdicts)
    issue11 = (slow.targets() if slow else []) + local_targets(res, trees)
    doc += ["## Targets of issue 11", "",
            "Shown by the table, never by a timed test.", ""] + issue11 + [""]
    issue5 = issue5_targets(res, trees)
    if issue5:
        doc += ["## Targets of issue 5", ""] + issue5 + [""]
    issue14 = issue14_targets(res, trees)
    if issue14:
        doc += ["## Targets of issue 14 (bug 2)", ""] + issue14 + [""]
    doc += footer(trees)
    text = "\n".join(doc)
    with open(out_path, "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
