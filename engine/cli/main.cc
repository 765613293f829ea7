// keel's entry point: see engine/cli/commands.h for the command table.
#include "engine/cli/commands.h"

int main(int argc, char** argv) { return keel::cli::Main(argc, argv); }
