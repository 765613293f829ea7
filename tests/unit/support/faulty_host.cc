#include "tests/unit/support/faulty_host.h"

#include <cstring>

namespace keel::testing {

void FaultyHost::FailNth(Op op, int n, int err) {
  std::lock_guard lock(mu_);
  faults_.push_back({op, n, err, false});
}

void FaultyHost::FailFrom(Op op, int n, int err) {
  std::lock_guard lock(mu_);
  faults_.push_back({op, n, err, true});
}

int FaultyHost::Count(Op op) const {
  std::lock_guard lock(mu_);
  return counts_[static_cast<size_t>(op)];
}

int FaultyHost::Failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void FaultyHost::Reset() {
  std::lock_guard lock(mu_);
  counts_.fill(0);
  faults_.clear();
  failures_ = 0;
}

int FaultyHost::Tick(Op op) {
  std::lock_guard lock(mu_);
  int nth = ++counts_[static_cast<size_t>(op)];
  int nth_write = op == Op::kRun ? 0 : ++counts_[static_cast<size_t>(Op::kWrite)];
  for (const Fault& f : faults_) {
    int seen = f.op == op ? nth : (f.op == Op::kWrite ? nth_write : 0);
    if (seen == 0) continue;
    if (seen == f.n || (f.from && seen > f.n)) {
      ++failures_;
      return f.err;
    }
  }
  return 0;
}

Error FaultyHost::Injected(const std::string& what, const HostPath& path, int err) const {
  // As RealHost::Where: the real path under --root, the host path when live.
  std::string where = base_.live() ? path.str() : base_.root() + (path.IsRoot() ? "" : path.str());
  return MakeError(ErrorCode::kIo, what + " " + where + ": " + std::strerror(err));
}

Result<void> FaultyHost::WriteFileAtomic(const HostPath& path, std::string_view data,
                                         const FileAttrs& attrs) {
  if (int err = Tick(Op::kWriteFileAtomic)) return Injected("cannot write", path, err);
  return base_.WriteFileAtomic(path, data, attrs);
}

Result<void> FaultyHost::MakeDir(const HostPath& path, const FileAttrs& attrs) {
  if (int err = Tick(Op::kMakeDir)) return Injected("cannot create directory", path, err);
  return base_.MakeDir(path, attrs);
}

Result<void> FaultyHost::Symlink(const HostPath& path, const std::string& target) {
  if (int err = Tick(Op::kSymlink)) return Injected("cannot create symlink", path, err);
  return base_.Symlink(path, target);
}

Result<void> FaultyHost::Remove(const HostPath& path, bool recursive, bool backup) {
  if (int err = Tick(Op::kRemove)) return Injected("cannot remove", path, err);
  return base_.Remove(path, recursive, backup);
}

Result<void> FaultyHost::SetAttrs(const HostPath& path, const FileAttrs& attrs) {
  if (int err = Tick(Op::kSetAttrs)) return Injected("cannot set attributes of", path, err);
  return base_.SetAttrs(path, attrs);
}

Result<CommandResult> FaultyHost::Run(const Command& cmd) {
  if (int err = Tick(Op::kRun)) {
    // As RealHost::Run: the program started (/bin/sh for a shell command).
    std::string prog = !cmd.shell.empty() ? "/bin/sh" : (cmd.argv.empty() ? "" : cmd.argv[0]);
    return MakeError(ErrorCode::kIo, "cannot run '" + prog + "': " + std::strerror(err));
  }
  return base_.Run(cmd);
}

}  // namespace keel::testing
