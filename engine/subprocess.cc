// Subprocesses: fork/exec without a shell, pipes for stdin/stdout/stderr,
// a timeout that kills the process group, chroot.
#include "engine/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include "engine/fd.h"
#include "engine/interrupt.h"

namespace keel {

namespace {

// The descriptor limit keel was started with (read before main): a large
// batch of writes may raise keel's own for a moment (host_real.cc); a
// child, which may use select(2), gets this one back.
const struct rlimit kStartNofile = [] {
  struct rlimit r {};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) r.rlim_cur = r.rlim_max = RLIM_INFINITY;
  return r;
}();

constexpr size_t kOutputCap = 1 << 20;  // bytes of stdout / stderr kept (the last ones)

std::string Errno(int err) { return std::strerror(err); }

Error IoError(int err, const std::string& what) {
  return MakeError(ErrorCode::kIo, what + ": " + Errno(err));
}

// Moves a descriptor to >= 10 (so dup2 onto 0..3 in the child never clobbers
// another pipe end) and marks it close-on-exec.
int HighFd(int fd) {
  if (fd >= 10) return fd;
  int h = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return h;
}

bool MakePipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  fds[0] = HighFd(fds[0]);
  fds[1] = HighFd(fds[1]);
  return fds[0] >= 0 && fds[1] >= 0;
}

void Append(std::string& buf, const char* data, size_t n) {
  buf.append(data, n);
  if (buf.size() > 2 * kOutputCap) buf.erase(0, buf.size() - kOutputCap);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Child-side failure report: stage and errno, written to the exec pipe.
struct ChildFailure {
  int stage;  // 1 chroot, 2 chdir, 3 exec, 4 setup
  int err;
};

[[noreturn]] void ChildFail(int fd, int stage, int err) {
  ChildFailure f{stage, err};
  ssize_t ignored = ::write(fd, &f, sizeof f);
  (void)ignored;
  ::_exit(127);
}

std::mutex progress_mu;
OutputProgress progress_fn;  // guarded by progress_mu

OutputProgress CurrentProgress() {
  std::lock_guard<std::mutex> lock(progress_mu);
  return progress_fn;
}

// The last non-blank line of `text`: the part after its last '\r' (a
// progress bar redraws itself with carriage returns), control characters
// dropped, at most 200 bytes.
std::string LastLine(const std::string& text) {
  size_t end = text.size();
  while (end > 0) {
    size_t nl = text.rfind('\n', end - 1);
    size_t begin = nl == std::string::npos ? 0 : nl + 1;
    std::string line = text.substr(begin, end - begin);
    while (!line.empty() && line.back() == '\r') line.pop_back();
    size_t cr = line.rfind('\r');
    if (cr != std::string::npos) line.erase(0, cr + 1);
    std::string clean;
    for (char c : line)
      if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) clean += c;
    size_t first = clean.find_first_not_of(' ');
    if (first != std::string::npos) {
      clean.erase(0, first);
      if (clean.size() > 200) clean.resize(200);
      return clean;
    }
    if (nl == std::string::npos) break;
    end = nl;
  }
  return "";
}

}  // namespace

void SetOutputProgress(OutputProgress fn) {
  std::lock_guard<std::mutex> lock(progress_mu);
  progress_fn = std::move(fn);
}

void ReportProgress(const std::string& program, const std::string& line) {
  if (const OutputProgress fn = CurrentProgress()) fn(program, line);
}

Result<CommandResult> RunProcess(const ProcessSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return MakeError(ErrorCode::kInvalid, "cannot run an empty command");
  }
  const std::vector<std::string>& argv = spec.argv;
  const std::string& prog = argv[0];
  bool chrooted = !spec.chroot_dir.empty();
  const std::string& workdir = spec.workdir;
  std::vector<std::string> env_strs;
  for (const auto& [k, v] : spec.env) env_strs.push_back(k + "=" + v);

  // Candidate program paths (PATH search done here, not after fork).
  std::vector<std::string> candidates;
  if (prog.find('/') != std::string::npos) {
    candidates.push_back(prog);
  } else {
    auto it = spec.env.find("PATH");
    std::string path_var = it != spec.env.end() ? it->second : kDefaultCommandPath;
    size_t i = 0;
    while (i <= path_var.size()) {
      size_t j = path_var.find(':', i);
      if (j == std::string::npos) j = path_var.size();
      std::string dir = path_var.substr(i, j - i);
      if (dir.empty()) dir = ".";
      candidates.push_back(dir + "/" + prog);
      i = j + 1;
    }
  }
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (auto& e : env_strs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  int in[2], out[2], err[2], exec_pipe[2];
  if (!MakePipe(in)) return IoError(errno, "cannot run '" + prog + "': pipe");
  Fd in_r(in[0]), in_w(in[1]);
  if (!MakePipe(out)) return IoError(errno, "cannot run '" + prog + "': pipe");
  Fd out_r(out[0]), out_w(out[1]);
  if (!MakePipe(err)) return IoError(errno, "cannot run '" + prog + "': pipe");
  Fd err_r(err[0]), err_w(err[1]);
  if (!MakePipe(exec_pipe)) return IoError(errno, "cannot run '" + prog + "': pipe");
  Fd ex_r(exec_pipe[0]), ex_w(exec_pipe[1]);

  const char* root_c = spec.chroot_dir.c_str();
  const char* workdir_c = workdir.c_str();
  pid_t pid = ::fork();
  if (pid < 0) return IoError(errno, "cannot run '" + prog + "': fork");
  if (pid == 0) {
    // Child: only async-signal-safe calls from here.
    ::setpgid(0, 0);
    if (spec.cwd_fd >= 0 && ::fchdir(spec.cwd_fd) != 0) ChildFail(ex_w.get(), 2, errno);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) ::signal(s, SIG_DFL);
    int ex = ex_w.get();
    if (::dup2(in_r.get(), 0) < 0 || ::dup2(out_w.get(), 1) < 0 || ::dup2(err_w.get(), 2) < 0) {
      ChildFail(ex, 4, errno);
    }
    if (::dup3(ex, 3, O_CLOEXEC) < 0) ChildFail(ex, 4, errno);
    ex = 3;
    ::syscall(SYS_close_range, 4U, ~0U, 0U);
    if (kStartNofile.rlim_cur != RLIM_INFINITY) ::setrlimit(RLIMIT_NOFILE, &kStartNofile);
    if (chrooted) {
      if (::chroot(root_c) != 0) ChildFail(ex, 1, errno);
    }
    if (spec.cwd_fd < 0 && ::chdir(workdir_c) != 0) ChildFail(ex, 2, errno);
    int last_err = ENOENT;
    for (const auto& c : candidates) {
      ::execve(c.c_str(), cargv.data(), cenv.data());
      if (errno != ENOENT && errno != ENOTDIR) last_err = errno;
      if (last_err == ENOENT && errno != ENOENT) last_err = errno;
    }
    ChildFail(ex, 3, last_err);
  }

  // Parent. The group is registered so a second SIGTERM/SIGINT kills it.
  ChildGroupGuard group(pid);
  in_r.Reset();
  out_w.Reset();
  err_w.Reset();
  ex_w.Reset();
  ChildFailure failure{0, 0};
  ssize_t got;
  do {
    got = ::read(ex_r.get(), &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::string msg = "cannot run '" + prog + "'";
    if (failure.stage == 1) msg += ": chroot " + spec.chroot_dir;
    if (failure.stage == 2) msg += ": cannot change directory to " + workdir;
    return MakeError(
        failure.stage == 3 && failure.err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
        msg + ": " + Errno(failure.err));
  }
  ex_r.Reset();

  CommandResult result;
  size_t in_off = 0;
  if (spec.stdin_data.empty()) in_w.Reset();
  for (Fd* f : {&in_w, &out_r, &err_r}) {
    if (f->valid()) ::fcntl(f->get(), F_SETFL, ::fcntl(f->get(), F_GETFL) | O_NONBLOCK);
  }

  // Writing to a pipe whose reader is gone must not kill keel: block
  // SIGPIPE in this thread while feeding stdin, and consume any pending one.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

  double deadline = spec.timeout_s > 0 ? Now() + spec.timeout_s : 0;
  double kill_at = 0;  // after SIGTERM: when to send SIGKILL
  double stop_at = 0;  // after a stop request: when the grace period ends
  bool stopped = false;
  bool reaped = false;
  int status = 0;
  char buf[65536];
  // Progress on a terminal: the newest output line of a long command, shown
  // once it has run a second (then at most every 200 ms) whether or not
  // more output came since.
  const OutputProgress progress = CurrentProgress();
  const double started = Now();
  double shown_at = 0;
  const std::string* fresh = nullptr;  // the sink that got output not yet shown
  std::string program = spec.argv[0].substr(spec.argv[0].rfind('/') + 1);
  auto show_progress = [&] {
    if (!progress || fresh == nullptr) return;
    double now = Now();
    if (now - started < 1.0 || now - shown_at < 0.2) return;
    std::string line = LastLine(*fresh);
    fresh = nullptr;
    shown_at = now;
    if (!line.empty()) progress(program, line);
  };
  auto drain = [&](Fd& f, std::string& sink) {
    for (;;) {
      ssize_t n = ::read(f.get(), buf, sizeof buf);
      if (n > 0) {
        Append(sink, buf, static_cast<size_t>(n));
        fresh = &sink;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) f.Reset();
      return;
    }
  };

  while (!reaped) {
    struct pollfd pfds[3];
    int nfds = 0;
    Fd* owners[3];
    std::string* sinks[3];
    if (out_r.valid()) {
      pfds[nfds] = {out_r.get(), POLLIN, 0};
      owners[nfds] = &out_r;
      sinks[nfds++] = &result.out;
    }
    if (err_r.valid()) {
      pfds[nfds] = {err_r.get(), POLLIN, 0};
      owners[nfds] = &err_r;
      sinks[nfds++] = &result.err;
    }
    if (in_w.valid()) {
      pfds[nfds] = {in_w.get(), POLLOUT, 0};
      owners[nfds] = &in_w;
      sinks[nfds++] = nullptr;
    }
    int wait_ms = 100;
    double now = Now();
    if (deadline > 0 && !result.timed_out) {
      wait_ms = std::min(wait_ms, std::max(0, static_cast<int>((deadline - now) * 1000) + 1));
    }
    int pr = nfds > 0 ? ::poll(pfds, nfds, wait_ms) : ::poll(nullptr, 0, wait_ms);
    if (pr > 0) {
      for (int i = 0; i < nfds; ++i) {
        if (pfds[i].revents == 0) continue;
        if (sinks[i] != nullptr) {
          drain(*owners[i], *sinks[i]);
        } else if (pfds[i].revents & (POLLERR | POLLHUP)) {
          in_w.Reset();
        } else {
          ssize_t n =
              ::write(in_w.get(), spec.stdin_data.data() + in_off, spec.stdin_data.size() - in_off);
          if (n > 0) in_off += static_cast<size_t>(n);
          if ((n < 0 && errno != EAGAIN && errno != EINTR) || in_off >= spec.stdin_data.size()) {
            in_w.Reset();
          }
        }
      }
    }
    show_progress();
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      reaped = true;
      break;
    }
    now = Now();
    if (deadline > 0 && !result.timed_out && now >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGTERM);
      kill_at = now + 2.0;
    }
    // keel was asked to stop (SIGTERM/SIGINT): the command may finish
    // within the grace period, then its whole group goes as on a timeout.
    if (stop_at == 0 && StopRequested()) stop_at = now + StopGraceSeconds();
    if (stop_at > 0 && !stopped && !result.timed_out && now >= stop_at) {
      stopped = true;
      ::kill(-pid, SIGTERM);
      kill_at = now + 2.0;
    }
    if (kill_at > 0 && now >= kill_at) {
      ::kill(-pid, SIGKILL);
      kill_at = 0;
    }
  }
  // Whatever the main process wrote is in the pipes now; do not wait for
  // background children that inherited them.
  if (out_r.valid()) drain(out_r, result.out);
  if (err_r.valid()) drain(err_r, result.err);
  if (result.timed_out || stopped) ::kill(-pid, SIGKILL);  // stragglers of the group
  in_w.Reset();
  struct timespec zero = {0, 0};
  while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);

  if (result.out.size() > kOutputCap) result.out.erase(0, result.out.size() - kOutputCap);
  if (result.err.size() > kOutputCap) result.err.erase(0, result.err.size() - kOutputCap);
  if (stopped) {
    result.exit_code = -1;
    if (!result.err.empty() && result.err.back() != '\n') result.err += '\n';
    result.err += "keel: killed (process group): keel was stopped by " + StopSignalName() +
                  " and the command did not finish within the grace period\n";
  } else if (result.timed_out) {
    result.exit_code = -1;
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else {
    result.exit_code = -1;
  }
  return result;
}

}  // namespace keel
