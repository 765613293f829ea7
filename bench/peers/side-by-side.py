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
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run-peers.sh")


def cmd(tool, case, phase):
    out = subprocess.run([RUNNER, "cmd", tool, case, phase], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"run-peers.sh cmd {tool} {case} {phase}: {out.stderr.strip()}")
    return out.stdout.strip()


def timed(shell_cmd):
    """Wall seconds and peak RSS (MiB) of the slowest child of one run.

    Started with posix_spawn (vfork), not os.fork(): forking this Python
    process cost ~9 ms here (page tables of the interpreter copied, then
    copy-on-write faults until the exec), and that was counted in every
    tool's wall (`sh -c true`: 11.9 ms forked, 2.9 ms spawned)."""
    start = time.perf_counter()
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", shell_cmd + " >/dev/null 2>&1"], os.environ)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    return wall, ru.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


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
