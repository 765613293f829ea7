#!/usr/bin/env python3
"""Generates a config repo of N resources for load benchmarks.

    bench/gen_manifests.py OUTDIR [N] [FILES]

OUTDIR/site.yaml has vars and a hierarchy (data/common.yaml) and includes
mods/*.yaml; the N resources are spread over FILES module files (default
10). Half are `file` resources (content interpolating vars and facts, mode,
a require on the previous file of the module), half `shellvar` resources
(value interpolated, require on a file of the same module). Every resource
is valid, so `keel validate OUTDIR` must succeed.
"""
import os
import sys


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    files = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    os.makedirs(os.path.join(out, "mods"), exist_ok=True)
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    with open(os.path.join(out, "site.yaml"), "w") as f:
        f.write("vars:\n  base: /etc/bench\n  owner: root\n  greeting: hello\n"
                "hierarchy:\n  - data/nodes/{{ facts.hostname }}.yaml\n  - data/common.yaml\n"
                "include:\n  - mods/*.yaml\n"
                "resources:\n  - file: \"{{ base }}\"\n    ensure: directory\n"
                "    mode: \"0755\"\n")
    with open(os.path.join(out, "data", "common.yaml"), "w") as f:
        f.write("domain: example.com\nports: [80, 443]\n")
    per = [n // files + (1 if i < n % files else 0) for i in range(files)]
    k = 0
    for m in range(files):
        lines = ["resources:"]
        prev_file = None
        for i in range(per[m]):
            if k % 2 == 0:
                path = "/etc/bench/m%02d_f%06d.conf" % (m, k)
                lines.append("  - file: \"{{ base }}/m%02d_f%06d.conf\"" % (m, k))
                lines.append("    content: \"# %d {{ greeting }} from {{ facts.hostname }}."
                             "{{ domain }}\\nport = {{ ports[0] }}\\n\"" % k)
                lines.append("    mode: \"0644\"")
                lines.append("    owner: \"{{ owner }}\"")
                if prev_file:
                    lines.append("    require: file[%s]" % prev_file)
                lines.append("    tags: [bench, m%02d]" % m)
                prev_file = path
            else:
                lines.append("  - shellvar: KEY_%06d" % k)
                lines.append("    path: /etc/sysconfig/bench_m%02d" % m)
                lines.append("    value: \"{{ greeting }}-%d\"" % k)
                if prev_file:
                    lines.append("    require: file[%s]" % prev_file)
            k += 1
        with open(os.path.join(out, "mods", "m%02d.yaml" % m), "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
