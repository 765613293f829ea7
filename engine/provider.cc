#include "engine/provider.h"

#include "engine/digest.h"

namespace keel {

std::string ContentNotShown(std::string_view attr, std::string_view text) {
  return std::string(attr) + " not shown (" + std::to_string(text.size()) + " bytes, " +
         (text.size() > kMaxShownContent ? "large" : "binary") + "): sha256:" + Sha256Hex(text);
}

std::vector<Change> AttrDiff(const Resource& want, const Attrs& have) {
  std::vector<Change> out;
  for (const auto& [key, have_v] : have) {
    const Value* want_v = want.Get(key);
    if (!want_v) continue;
    if (*want_v == have_v) continue;
    Change c{key, std::nullopt, *want_v, ""};
    if (!have_v.is_null()) c.from = have_v;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Change> Provider::Diff(const Resource& want, const Observation& have, RunContext& ctx) {
  (void)ctx;
  return AttrDiff(want, have);
}

void DiffProperty(std::vector<Change>& out, const Attrs& have, const std::string& attr,
                  Value want) {
  const Value* h = have.Find(attr);
  if (h && !h->is_null() && *h == want) return;
  out.push_back(
      {attr, h && !h->is_null() ? std::optional<Value>(*h) : std::nullopt, std::move(want), ""});
}

namespace {

// The last `n` non-empty lines of a command's output, stderr first.
std::string LastLines(const CommandResult& r, size_t n) {
  std::string all = r.err;
  if (!all.empty() && all.back() != '\n' && !r.out.empty()) all += '\n';
  all += r.out;
  while (!all.empty() && (all.back() == '\n' || all.back() == ' ')) all.pop_back();
  size_t pos = all.size();
  for (size_t k = 0; k < n && pos != std::string::npos && pos > 0; ++k)
    pos = all.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? all : all.substr(pos + 1);
}

}  // namespace

Result<CommandResult> RunChecked(Host& host, const Command& cmd, const std::string& what) {
  auto r = host.Run(cmd);
  if (!r.ok()) {
    Error e = r.error();
    return e.Context(what);
  }
  if (r->timed_out)
    return MakeError(ErrorCode::kTimeout, what + ": " + cmd.Display() + " timed out after " +
                                              std::to_string(cmd.timeout_s) + " s");
  if (r->exit_code != 0) {
    std::string tail = LastLines(*r, 10);
    return MakeError(ErrorCode::kCommand, what + ": " + cmd.Display() + " failed (exit " +
                                              std::to_string(r->exit_code) + ")" +
                                              (tail.empty() ? "" : ": " + tail));
  }
  return r;
}

}  // namespace keel
