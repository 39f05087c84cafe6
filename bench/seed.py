#!/usr/bin/env python3
"""The seed story's approach, as a benchmark contender.

    seed.py scan [--workers N] ROOT                 print the leaves
    seed.py walk ROOT                               plain os.walk: print every directory
    seed.py consolidate [--pool thread|process] [--workers N] [--remove] ROOT

From the seed story, "When os.walk() Freezes: Diagnosing and Fixing
Silent Network Hangs on NetApp Shared Storage with Python" by Guy Gontar
(DEV Community): the tree is split at the top level, one task per entity
subtree, run by a ThreadPoolExecutor; each task walks its subtree with
os.walk(followlinks=False), sorting dirnames in place; a leaf is a
directory without subdirectories.  Consolidation, as the story describes
it: json.load each *.txt file, merge the records, sort them by timestamp,
write one JSON object per line (json.dumps), then remove the small files.
The sort key is the timestamp string, as such a script would write it; no
fsync.  --pool process is the ProcessPoolExecutor variant; tqdm is left
out.
"""
import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from pathlib import Path

OUTPUT = "consolidated.jsonl"


def scan_subtree(subdir):
    found = []
    for dirpath, dirnames, _ in os.walk(subdir, topdown=True, followlinks=False):
        dirnames[:] = sorted(dirnames)
        if not dirnames:
            found.append(Path(dirpath))
    return found


def consolidate_leaf(leaf, remove):
    sources = sorted(p for p in leaf.iterdir() if p.suffix == ".txt" and p.is_file())
    if not sources:
        return 0
    records = []
    for path in sources:
        with open(path, encoding="utf-8") as f:
            records.extend(json.load(f))
    records.sort(key=lambda r: r.get("timestamp", ""))
    tmp = leaf / (OUTPUT + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    os.replace(tmp, leaf / OUTPUT)
    if remove:
        for path in sources:
            os.remove(path)
    return len(sources)


def consolidate_subtree(subdir, remove):
    return sum(consolidate_leaf(leaf, remove) for leaf in scan_subtree(subdir))


def top_level(root):
    return sorted(p for p in Path(root).iterdir() if p.is_dir())


def run_pool(pool, func, root, *args):
    """Submits func(subtree, *args) per top-level subtree; returns results.
    A failing subtree is reported and the others go on, as in the story."""
    results, failed = [], 0
    with pool as executor:
        futures = {executor.submit(func, d, *args): d for d in top_level(root)}
        for future in as_completed(futures):
            try:
                results.append(future.result(timeout=120))
            except Exception as e:
                print(f" ERROR in {futures[future]}: {e}", file=sys.stderr)
                failed += 1
    return results, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["scan", "walk", "consolidate"])
    parser.add_argument("--pool", choices=["thread", "process"], default="thread")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--remove", action="store_true")
    parser.add_argument("root")
    a = parser.parse_args()
    pool = (ThreadPoolExecutor if a.pool == "thread" else ProcessPoolExecutor)(
        max_workers=a.workers)
    if a.mode == "walk":
        out = [dirpath for dirpath, _, _ in os.walk(a.root, followlinks=False)]
        sys.stdout.write("\n".join(out) + "\n")
        return 0
    if a.mode == "scan":
        results, failed = run_pool(pool, scan_subtree, a.root)
        targets = sorted(p for found in results for p in found)
        sys.stdout.write("".join(f"{p}\n" for p in targets))
        return 1 if failed else 0
    _, failed = run_pool(pool, consolidate_subtree, a.root, a.remove)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
