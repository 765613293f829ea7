#include "engine/cli/commands.h"

#include <cstdio>

namespace keel::cli {

int Main(int argc, char** argv) {
  (void)argc, (void)argv;
  std::fprintf(stderr, "keel: not yet implemented\n");
  return 1;
}

}  // namespace keel::cli
