// The state dir (SPEC 6): lock, backup store and index, owed refreshes,
// last_run.json. Lives outside the Host: it is keel's, not the root's.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/digest.h"  // Sha256Hex, for callers of the backup store
#include "engine/host.h"
#include "engine/result.h"

namespace keel {

struct BackupEntry {
  std::string time;  // RFC 3339 UTC
  std::string path;  // HostPath text
  std::string sha256;
};

class StateDir : public BackupSink {
 public:
  /// Uses `dir` (created 0700 on first write, never in a dry run).
  explicit StateDir(std::string dir);
  ~StateDir() override;
  const std::string& dir() const { return dir_; }

  /// Takes the exclusive run lock, waiting up to timeout_s seconds. Error
  /// kConflict naming the holder's pid when held.
  Result<void> Lock(double timeout_s);
  void Unlock();

  /// Stores content under backup/<sha256> (0600, dir 0700) and appends an
  /// index line "time\tpath\tsha256".
  Result<void> Save(const HostPath& path, std::string_view content) override;
  Result<std::vector<BackupEntry>> Index() const;
  /// Content of a backup by sha; error when missing.
  Result<std::string> LoadBackup(const std::string& sha256) const;

  /// Owed refreshes (resource ids) kept from earlier runs.
  std::vector<std::string> OwedRefreshes() const;
  Result<void> SetOwedRefreshes(const std::vector<std::string>& ids);

  Result<void> WriteLastRun(const std::string& json);

 private:
  std::string dir_;
  int lock_fd_ = -1;
};

}  // namespace keel
