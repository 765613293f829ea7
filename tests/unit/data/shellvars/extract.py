#!/usr/bin/env python3
"""Extracts the shell snippets of Augeas' shellvars lens tests into one data
file each (see README.md here for the source and licence).

    extract.py OUTDIR test_shellvars.aug [test_shellvars_list.aug ...]

Every string literal of the .aug files that ends in a newline is a snippet of
a shell file (the inputs and expected outputs of the lens tests). Kept: the
snippets bash accepts (`bash -n`) and that source quietly and exit 0 in
`env -i bash` in an empty directory. Duplicates are dropped.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

ESC = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def literals(text):
    text = re.sub(r"\(\*.*?\*\)", "", text, flags=re.S)  # Augeas comments
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', text, flags=re.S):
        raw = m.group(1)
        yield re.sub(r"\\(.)", lambda e: ESC.get(e.group(1), "\\" + e.group(1)), raw)


def sources_quietly(snippet):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "f.sh")
        with open(path, "w") as f:
            f.write(snippet)
        if subprocess.run(["bash", "-n", path], capture_output=True).returncode != 0:
            return False
        try:
            r = subprocess.run(["timeout", "5", "env", "-i", "bash", "--norc", "--noprofile",
                                "-c", 'source "$0"', path], cwd=d, capture_output=True,
                               stdin=subprocess.DEVNULL, timeout=10)
        except subprocess.TimeoutExpired:
            return False
        return r.returncode == 0 and not r.stderr and not r.stdout


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seen = set()
    kept = 0
    for src in sys.argv[2:]:
        base = os.path.basename(src).replace(".aug", "")
        n = 0
        for lit in literals(open(src).read()):
            if not lit.endswith("\n") or lit in seen:
                continue
            seen.add(lit)
            if not sources_quietly(lit):
                continue
            n += 1
            with open(os.path.join(out, "%s-%03d.sh" % (base, n)), "w") as f:
                f.write(lit)
            kept += 1
    print("kept", kept, "snippets of", len(seen))


main()
