// Where a file's wanted content comes from besides `content`: a `source`
// copied from the config repo, or a `template` rendered with the facts.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "engine/host.h"
#include "engine/result.h"
#include "engine/value.h"

namespace keel::file {

/// Renders `text` with {{ }} expressions; `facts` is the only variable
/// (manifest variables exist at load time only). Error (kInvalid) on an
/// undefined name or a bad expression: "template NAME:LINE:COL: message".
Result<std::string> RenderTemplate(std::string_view text, const Value& facts,
                                   const std::string& name);

/// Splits a source/template path into {repo root, absolute path inside it}.
/// `name` is absolute (the loader resolves it) or relative to `repo`. An
/// empty `repo` roots an absolute name at "/". Error when the name lies
/// outside the repo or is relative with no repo.
Result<std::pair<std::string, std::string>> SplitRepoPath(const std::string& name, std::string repo,
                                                          const std::string& attr);

/// Reads config repo files through read-only Hosts rooted at each repo, so
/// that a source never resolves outside its repo (symlinks included).
/// Thread-safe; one Host per repo, opened on first use.
class RepoReader {
 public:
  /// The bytes of `name` (see SplitRepoPath). Error kNotFound when missing.
  Result<std::string> Read(const std::string& name, const std::string& repo,
                           const std::string& attr);

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Host>> hosts_;
};

}  // namespace keel::file
