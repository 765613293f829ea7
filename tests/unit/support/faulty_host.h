// FaultyHost: a Host wrapper for fault-injection tests (leveldb's
// fault-injecting Env is the model). It passes every call through to a base
// Host and makes chosen calls fail with a chosen errno, without reaching the
// base: nothing is written by a failed call.
//
//   FaultyHost host(*base);
//   host.FailNth(FaultyHost::Op::kWrite, 2, ENOSPC);  // the 2nd write of any kind fails
//   ... run a transaction over `host` ...
//   CHECK(host.Count(FaultyHost::Op::kWrite) == 3);  // the failed call counts too
//
// To fail each call in turn: run once with no fault armed and read Count(op),
// then for n in 1..Count(op) run again (a fresh tree and FaultyHost) with
// FailNth(op, n, err).
//
// An injected error looks like the real host's (engine/host_real.cc): code
// kIo, message "<what> <where>: <strerror(err)>", e.g. "cannot write
// /tmp/r/etc/motd: No space left on device" (<where> is the real path under
// --root, the host path when live), or "cannot run '/bin/true': Input/output
// error" for a command. Calls are counted and faults fired under a mutex, so
// the wrapper may be shared by parallel workers (the order of their calls,
// and hence which one is "the Nth", is then not fixed).
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <vector>

#include "engine/host.h"

namespace keel::testing {

class FaultyHost : public Host {
 public:
  enum class Op {
    kWriteFileAtomic,
    kMakeDir,
    kSymlink,
    kRemove,
    kSetAttrs,
    kRun,
    kWrite,  // any of the five writes above (not kRun): counted across them
  };

  /// Wraps `base`, which must outlive the wrapper. No fault is armed.
  explicit FaultyHost(Host& base) : base_(base) {}

  /// Makes the `n`th call (1-based, counted from construction or Reset) of
  /// `op` fail with `err` (ENOSPC, EIO, EROFS, EACCES, ...); the calls
  /// before and after it pass through. Several faults may be armed at once;
  /// the first armed one that matches a call fires.
  void FailNth(Op op, int n, int err);
  /// Makes the `n`th call of `op` and every later one fail with `err` (a
  /// disk that stays full, a file system remounted read-only).
  void FailFrom(Op op, int n, int err);
  /// Calls of `op` so far, failed ones included.
  int Count(Op op) const;
  /// Faults fired so far.
  int Failures() const;
  /// Disarms every fault and zeroes the counts.
  void Reset();

  bool live() const override { return base_.live(); }
  const std::string& root() const override { return base_.root(); }
  bool dry_run() const override { return base_.dry_run(); }

  Result<std::optional<std::string>> ReadFile(const HostPath& path) override {
    return base_.ReadFile(path);
  }
  Result<FileInfo> Lstat(const HostPath& path) override { return base_.Lstat(path); }
  Result<FileInfo> Stat(const HostPath& path) override { return base_.Stat(path); }
  Result<std::vector<std::string>> ListDir(const HostPath& path) override {
    return base_.ListDir(path);
  }

  Result<void> WriteFileAtomic(const HostPath& path, std::string_view data,
                               const FileAttrs& attrs) override;
  Result<void> MakeDir(const HostPath& path, const FileAttrs& attrs) override;
  Result<void> Symlink(const HostPath& path, const std::string& target) override;
  Result<void> Remove(const HostPath& path, bool recursive, bool backup = true) override;
  Result<void> SetAttrs(const HostPath& path, const FileAttrs& attrs) override;
  Result<CommandResult> Run(const Command& cmd) override;

 private:
  struct Fault {
    Op op;
    int n;
    int err;
    bool from;  // the nth and every later call
  };
  static constexpr size_t kOps = static_cast<size_t>(Op::kWrite) + 1;

  // Counts a call of `op` (and of kWrite for a write); returns the errno to
  // fail it with, or 0 to pass it through.
  int Tick(Op op);
  // "<what> <where>: <strerror(err)>" as the real host words it.
  Error Injected(const std::string& what, const HostPath& path, int err) const;

  Host& base_;
  mutable std::mutex mu_;
  std::array<int, kOps> counts_{};
  std::vector<Fault> faults_;
  int failures_ = 0;
};

}  // namespace keel::testing
