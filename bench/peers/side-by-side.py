#!/usr/bin/env python3
"""Interleaved side-by-side timing of keel against the peers, in one run.

usage: ENGINE_BIN=path/to/keel side-by-side.py [--runs N] [--puppet-runs N]
                                               [--cases files-1000,lines-200,dag-200]
                                               [--tools cfengine,ours,puppet]

For each case and phase (cold, noop), runs every tool once per round, round
after round, so machine drift hits all tools alike. Prints median wall
seconds, median peak RSS (MiB) and keel's speed-up against each peer.
Needs `run-peers.sh gen` to have been run for the tools and cases.
"""
import argparse
import atexit
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run-peers.sh")


def cmd(tool, case, phase):
    out = subprocess.run([RUNNER, "cmd", tool, case, phase], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"run-peers.sh cmd {tool} {case} {phase}: {out.stderr.strip()}")
    return out.stdout.strip()


SPAWN_TIME = None  # the helper, compiled on first use (bench/peers/spawn_time.c)


def timed(shell_cmd):
    """Wall seconds and peak RSS (MiB) of the largest process of one run.

    Measured by a small C helper (spawn_time.c: fork, exec sh -c, wait4)
    rather than by forking this Python process, whose fork cost ~9 ms here
    and whose own resident size became the floor of every tool's peak RSS
    (see spawn_time.c)."""
    global SPAWN_TIME
    if SPAWN_TIME is None:
        tmp = tempfile.mkdtemp(prefix="spawn-time-")
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # no leftover per run
        out = os.path.join(tmp, "spawn_time")
        subprocess.run(["cc", "-O2", "-o", out, os.path.join(HERE, "spawn_time.c")], check=True)
        SPAWN_TIME = out
    r = subprocess.run([SPAWN_TIME, shell_cmd + " >/dev/null 2>&1"], capture_output=True,
                       text=True, check=True)
    wall, rss_kib, code = r.stdout.split()
    return float(wall), int(rss_kib) / 1024.0, int(code)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--puppet-runs", type=int, default=3)
    ap.add_argument("--cases", default="files-1000,lines-200,dag-200")
    ap.add_argument("--tools", default="cfengine,ours,puppet")
    ap.add_argument("--phases", default="cold,noop")
    a = ap.parse_args()
    tools = a.tools.split(",")
    rows = []
    print(f"{'case':<12} {'phase':<5} " + " ".join(f"{t:>18}" for t in tools) + "   keel speed-up")
    for case in a.cases.split(","):
        for phase in a.phases.split(","):
            cmds = {t: cmd(t, case, phase) for t in tools}
            walls = {t: [] for t in tools}
            rss = {t: [] for t in tools}
            for i in range(a.runs):
                for t in tools:
                    if t == "puppet" and i >= a.puppet_runs:
                        continue
                    # a cold command is "rm -rf ROOT && cp -a SEED ROOT && APPLY":
                    # reset untimed, then time the apply alone
                    c = cmds[t]
                    if phase == "cold":
                        parts = c.split(" && ", 2)
                        subprocess.run(["sh", "-c", " && ".join(parts[:2])], check=True)
                        c = parts[2]
                    w, m, _ = timed(c)
                    walls[t].append(w)
                    rss[t].append(m)
            med = {t: statistics.median(walls[t]) for t in tools}
            cells = " ".join(f"{med[t]:8.3f}s {statistics.median(rss[t]):6.0f}MiB" for t in tools)
            ups = ""
            if "ours" in tools:
                ups = ", ".join(f"{med[t] / med['ours']:.1f}x vs {t}" for t in tools if t != "ours")
            print(f"{case:<12} {phase:<5} {cells}   {ups}", flush=True)
            rows.append((case, phase, med, {t: statistics.median(rss[t]) for t in tools}))
    # The same as a Markdown table (README.md "Performance").
    names = {"ours": "keel", "base": "keel before", "cfengine": "cf-agent", "puppet": "puppet apply"}
    peers = [t for t in tools if t != "ours"]
    head = ["workload"] + [names.get(t, t) for t in tools]
    if "ours" in tools:
        head += [f"keel vs {names.get(t, t)}" for t in peers]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for case, phase, med, mem in rows:
        cells = [f"{case} {phase}"] + [f"{med[t]:.3f} s ({mem[t]:.0f} MiB)" for t in tools]
        if "ours" in tools:
            cells += [f"{med[t] / med['ours']:.1f}x" for t in peers]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
