#include "resources/file/file_content.h"

#include "engine/expr.h"
#include "engine/host_real.h"
#include "resources/file/file_util.h"

namespace keel::file {

Result<std::string> RenderTemplate(std::string_view text, const Value& facts,
                                   const std::string& name) {
  Map vars;
  vars.Set("facts", facts.is_null() ? Value(Map{}) : facts);
  size_t offset = 0;
  auto rendered = Interpolate(text, Value(std::move(vars)), &offset);
  if (!rendered.ok()) {
    auto [line, col] = LineCol(text, offset);
    return MakeError(ErrorCode::kInvalid, "template " + name + ":" + std::to_string(line) + ":" +
                                              std::to_string(col) + ": " +
                                              rendered.error().message);
  }
  return rendered->ToString();
}

Result<std::pair<std::string, std::string>> SplitRepoPath(const std::string& name, std::string repo,
                                                          const std::string& attr) {
  while (repo.size() > 1 && repo.back() == '/') repo.pop_back();
  if (!name.empty() && name[0] == '/') {
    if (repo.empty() || repo == "/") return std::pair<std::string, std::string>{"/", name};
    if (name.rfind(repo + "/", 0) == 0)
      return std::pair<std::string, std::string>{repo, name.substr(repo.size())};
    return MakeError(ErrorCode::kInvalid,
                     attr + " " + name + " is outside the config repo " + repo);
  }
  if (repo.empty())
    return MakeError(ErrorCode::kInvalid,
                     attr + " " + name + " is relative and no config repo is known");
  return std::pair<std::string, std::string>{repo, "/" + name};
}

Result<std::string> RepoReader::Read(const std::string& name, const std::string& repo,
                                     const std::string& attr) {
  auto split = SplitRepoPath(name, repo, attr);
  if (!split.ok()) return split.error();
  auto path = HostPath::Parse(split->second);
  if (!path.ok()) return path.error();
  Host* host = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = hosts_[split->first];
    if (!slot) {
      auto opened = OpenRealHost(split->first, nullptr);
      if (!opened.ok()) return opened.error().Context("opening config repo " + split->first);
      slot = std::move(*opened);
    }
    host = slot.get();
  }
  auto data = host->ReadFile(*path);
  if (!data.ok()) return data.error().Context("reading " + attr + " " + name);
  if (!data->has_value())
    return MakeError(ErrorCode::kNotFound, attr + " " + name + " does not exist");
  return std::move(**data);
}

}  // namespace keel::file
