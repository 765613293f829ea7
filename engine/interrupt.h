// Clean stops on SIGTERM / SIGINT (README "Runs"): the first signal asks the
// run to stop starting resources and lets the running one finish (a running
// command gets a grace period, then its process group is killed); a second
// signal stops at once. Process-wide state, written by the signal handler
// and read by the transaction and the subprocess loop.
#pragma once

#include <sys/types.h>

#include <string>

namespace keel {

/// Exit status of a run stopped by a signal: 128 + the signal number (130
/// for SIGINT, 143 for SIGTERM), as a shell reports a command killed by it,
/// and distinct from every status of SPEC 5 (0, 1, 2, 4, 6).
int InterruptedExitCode(int signo);

/// Installs the SIGTERM/SIGINT handlers (keel apply/plan). The first signal
/// sets the stop request; a second one SIGKILLs the process groups of the
/// running commands, writes one line to stderr and _exits with
/// InterruptedExitCode. `grace_s`: how long a running command may go on
/// after the first signal before its process group gets SIGTERM (and
/// SIGKILL 2 s later).
void InstallStopSignals(double grace_s);

/// Restores the default dispositions and clears the stop request (tests).
void ResetStopSignals();

/// True once a stop was requested (a first signal, or RequestStop).
bool StopRequested();
/// The signal that requested the stop (0 when none, or RequestStop(0)).
int StopSignal();
/// "SIGTERM", "SIGINT", "signal N" or "stop request".
std::string StopSignalName();
/// Requests a stop as a first signal would (tests; signo 0 = no signal).
void RequestStop(int signo);
/// Seconds a running command may go on after the stop request.
double StopGraceSeconds();

/// The process group of a running command, registered while it runs so a
/// second signal can kill it. Thread-safe and async-signal-safe to read.
class ChildGroupGuard {
 public:
  explicit ChildGroupGuard(pid_t pgid);
  ~ChildGroupGuard();
  ChildGroupGuard(const ChildGroupGuard&) = delete;
  ChildGroupGuard& operator=(const ChildGroupGuard&) = delete;

 private:
  int slot_ = -1;
};

}  // namespace keel
