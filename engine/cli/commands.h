// The command-line interface: a table of {command, help, function}.
#pragma once

namespace keel::cli {

/// Parses arguments, runs the command, returns the process exit code.
int Main(int argc, char** argv);

}  // namespace keel::cli
