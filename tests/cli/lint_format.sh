#!/usr/bin/env bash
# Lint: every C++ file is formatted with clang-format (.clang-format at the root).
set -euo pipefail
src=${KEEL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v clang-format >/dev/null || { echo "clang-format not installed"; exit 77; }
cd "$src"
bad=0
while IFS= read -r f; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "not formatted: $f" >&2; bad=1; }
done < <(find engine resources tests -name '*.cc' -o -name '*.h')
[ "$bad" = 0 ] && echo "lint: all C++ files are clang-formatted"
exit "$bad"
