#!/usr/bin/env bash
# Lint (STYLE.md): providers under resources/ do all I/O through keel::Host,
# so root confinement and the dry-run overlay cannot be bypassed. Fails when
# resources/ calls raw file or process APIs.
set -euo pipefail
src=${KEEL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
pattern='std::ofstream|std::ifstream|std::fstream|\bfopen\(|\bpopen\(|\bsystem\(|\bopen\(|\bunlink\(|\brename\(|std::filesystem::(remove|rename|create|copy|permissions|resize)|\bfork\(|\bexecv'
if hits=$(grep -rnE "$pattern" "$src/resources" --include='*.cc' --include='*.h'); then
  echo "raw I/O in resources/ (use keel::Host):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "lint: resources/ uses keel::Host only"
