// Subprocesses for the real Host: fork/exec without a shell, stdin fed and
// stdout/stderr collected through pipes (the last 1 MiB of each kept), a
// timeout that SIGTERMs then SIGKILLs the whole process group, optional chroot.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/host.h"
#include "engine/result.h"

namespace keel {

/// PATH given to commands (and searched for argv[0]) unless the env sets one.
inline constexpr const char* kDefaultCommandPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct ProcessSpec {
  std::vector<std::string> argv;           // argv[0] without '/' is searched in PATH
  std::map<std::string, std::string> env;  // the whole environment
  std::string chroot_dir;                  // non-empty: chroot into it first
  int cwd_fd = -1;                         // >= 0: fchdir to it (borrowed), else chdir(workdir)
  std::string workdir = "/";               // named in errors
  std::string stdin_data;
  int timeout_s = 0;  // 0 = none
};

/// Runs the process in its own process group and waits for it. A non-zero
/// exit is in the result, not an error; a timeout kills the group and sets
/// timed_out (exit_code -1). Error only when it cannot be started: kNotFound
/// when the program does not exist, kIo naming the stage (chroot, chdir,
/// exec, pipe, fork) and errno otherwise.
Result<CommandResult> RunProcess(const ProcessSpec& spec);

/// Receives the last line a command printed (stdout or stderr, the text
/// after its last carriage return), once the command has run for a second
/// and then at most every 200 ms: a package transaction's or a long exec's
/// progress on a terminal. Called from the thread running the command;
/// must be thread-safe under --jobs. The CLI sets it only when stderr is a
/// terminal; empty (the default) = nothing is shown.
using OutputProgress = std::function<void(const std::string& program, const std::string& line)>;
void SetOutputProgress(OutputProgress fn);
/// Hands one progress line of in-process work (a git fetch) to the function
/// set above, if any: `program` names the work ("git fetch").
void ReportProgress(const std::string& program, const std::string& line);

}  // namespace keel
