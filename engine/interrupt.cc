// SIGTERM/SIGINT handling: a stop request, then (second signal) a stop at once.
#include "engine/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace keel {
namespace {

constexpr int kSlots = 64;  // running commands at once (--jobs is at most 256, commands fewer)

std::atomic<int> g_signals{0};  // signals received since InstallStopSignals
std::atomic<int> g_signo{0};
std::atomic<bool> g_stop{false};
std::atomic<double> g_grace{30.0};
std::atomic<pid_t> g_groups[kSlots];

void WriteErr(const char* s) {
  ssize_t ignored = ::write(STDERR_FILENO, s, std::strlen(s));
  (void)ignored;
}

void OnSignal(int signo) {
  int n = g_signals.fetch_add(1) + 1;
  if (n == 1) {
    g_signo.store(signo);
    g_stop.store(true);
    WriteErr(signo == SIGINT ? "keel: SIGINT: stopping after the running resource "
                               "(a second signal stops at once)\n"
                             : "keel: SIGTERM: stopping after the running resource "
                               "(a second signal stops at once)\n");
    return;
  }
  // Second signal: nothing more is started or written; kill what runs.
  for (auto& g : g_groups) {
    pid_t pg = g.load();
    if (pg > 0) ::kill(-pg, SIGKILL);
  }
  WriteErr("keel: second signal: stopping at once (no report)\n");
  int first = g_signo.load();
  ::_exit(InterruptedExitCode(first != 0 ? first : signo));
}

}  // namespace

int InterruptedExitCode(int signo) { return 128 + (signo > 0 ? signo : SIGTERM); }

void InstallStopSignals(double grace_s) {
  g_grace.store(grace_s < 0 ? 0 : grace_s);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
}

void ResetStopSignals() {
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  g_signals.store(0);
  g_signo.store(0);
  g_stop.store(false);
  g_grace.store(30.0);
}

bool StopRequested() { return g_stop.load(std::memory_order_relaxed); }
int StopSignal() { return g_signo.load(); }

std::string StopSignalName() {
  int s = g_signo.load();
  if (s == SIGTERM) return "SIGTERM";
  if (s == SIGINT) return "SIGINT";
  if (s == 0) return "stop request";
  return "signal " + std::to_string(s);
}

void RequestStop(int signo) {
  g_signals.fetch_add(1);
  g_signo.store(signo);
  g_stop.store(true);
}

double StopGraceSeconds() { return g_grace.load(); }

ChildGroupGuard::ChildGroupGuard(pid_t pgid) {
  for (int i = 0; i < kSlots; ++i) {
    pid_t expected = 0;
    if (g_groups[i].compare_exchange_strong(expected, pgid)) {
      slot_ = i;
      return;
    }
  }
}

ChildGroupGuard::~ChildGroupGuard() {
  if (slot_ >= 0) g_groups[slot_].store(0);
}

}  // namespace keel
