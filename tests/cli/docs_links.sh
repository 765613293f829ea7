#!/bin/bash
# The manual stands alone: every relative link in README.md and docs/**/*.md
# resolves to a file inside the repository (and its #anchor to a heading
# there); no link leaves the repository (no ../shared/SPEC.md, no http links
# in docs/: a user with only the clone must be able to follow them all).
. "$(dirname "$0")/lib.sh"

cat >"$T/links.py" <<'PY'
import os, re, sys
src = os.path.realpath(sys.argv[1])
files = [os.path.join(src, "README.md")]
for d, _, names in os.walk(os.path.join(src, "docs")):
    files += [os.path.join(d, n) for n in sorted(names) if n.endswith(".md")]

def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")

def anchors(path):
    out, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("#"):
            out.add(slug(line.lstrip("#")))
    return out

link = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]]+\]:\s*(\S+)")
bad, count = [], 0
for f in files:
    rel = os.path.relpath(f, src)
    fence = False
    for n, line in enumerate(open(f, encoding="utf-8"), 1):
        if line.startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        for m in link.finditer(line):
            target = m.group(1) or m.group(2)
            count += 1
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                if rel.startswith("docs"):
                    bad.append("%s:%d: %s leaves the repository" % (rel, n, target))
                continue
            path, _, anchor = target.partition("#")
            dest = os.path.realpath(os.path.join(os.path.dirname(f), path)) if path else f
            if dest != src and not dest.startswith(src + os.sep):
                bad.append("%s:%d: %s points outside the repository" % (rel, n, target))
            elif not os.path.exists(dest):
                bad.append("%s:%d: %s does not exist" % (rel, n, target))
            elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                bad.append("%s:%d: %s: no heading #%s there" % (rel, n, target, anchor))
for b in bad:
    print(b, file=sys.stderr)
print("%d links in %d files checked" % (count, len(files)))
sys.exit(1 if bad else 0)
PY

# The checker catches what it should: a link out of the tree, a missing
# file, a missing anchor, an http link in docs/.
mkdir -p "$T/fake/docs"
printf '# T\n\n[a](../shared/SPEC.md) [b](docs/nope.md) [c](docs/m.md#nowhere)\n' >"$T/fake/README.md"
printf '# M\n\n[d](https://example.com/x)\n' >"$T/fake/docs/m.md"
run python3 "$T/links.py" "$T/fake"
assert_eq 1 "$RC" "checker exit on bad links"
for want in "../shared/" "docs/nope.md does not exist" "no heading #nowhere" "leaves the repository"; do
  assert_contains "$ERR" "$want" "checker output"
done

python3 "$T/links.py" "$KEEL_SRC" || fail "broken links (above)"
