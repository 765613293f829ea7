// The run report: JSON through nlohmann::json (field order as SPEC 5),
// text for people, exit codes.
#include "engine/report.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace keel {
namespace {

using Json = nlohmann::ordered_json;

Json ToJson(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return nullptr;
    case ValueKind::kBool:
      return v.as_bool();
    case ValueKind::kInt:
      return v.as_int();
    case ValueKind::kDouble:
      return v.as_double();
    case ValueKind::kString:
      return v.as_string();
    case ValueKind::kList: {
      Json a = Json::array();
      for (const Value& e : v.as_list()) a.push_back(ToJson(e));
      return a;
    }
    case ValueKind::kMap: {
      Json o = Json::object();
      for (const auto& [k, e] : v.as_map()) o[k] = ToJson(e);
      return o;
    }
  }
  return nullptr;
}

Json OptString(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }
Json NonEmpty(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

constexpr const char* kReset = "\033[0m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kGreen = "\033[32m";
constexpr const char* kYellow = "\033[33m";
constexpr const char* kCyan = "\033[36m";
constexpr const char* kBold = "\033[1m";

// The symbol printed for a resource; falls back on the status when the
// transaction left it blank.
char SymbolOf(const ResourceReport& r) {
  switch (r.status) {
    case Status::kFailed:
      return '!';
    case Status::kSkipped:
      return '?';
    case Status::kChanged:
      return r.symbol == '+' || r.symbol == '-' ? r.symbol : '~';
    case Status::kUnchanged:
      return ' ';
  }
  return ' ';
}

const char* SymbolColor(char sym) {
  switch (sym) {
    case '+':
      return kGreen;
    case '~':
    case '*':
      return kYellow;
    case '!':
    case '-':
      return kRed;
    default:
      return "";
  }
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

class Printer {
 public:
  Printer(const TextOptions& o, std::ostream& out) : o_(o), out_(out) {}

  void Colored(const char* color, std::string_view text) {
    if (o_.color && *color)
      out_ << color << text << kReset;
    else
      out_ << text;
  }

  // Indented block, each line coloured by its diff mark when `diff`.
  void Block(std::string_view text, bool diff, std::string_view prefix = "    ") {
    for (std::string_view line : Lines(text)) {
      out_ << prefix;
      const char* color = "";
      if (diff) {
        if (line.starts_with("+++") || line.starts_with("---"))
          color = kBold;
        else if (line.starts_with("@@"))
          color = kCyan;
        else if (line.starts_with("+"))
          color = kGreen;
        else if (line.starts_with("-"))
          color = kRed;
      }
      Colored(color, line);
      out_ << "\n";
    }
  }

 private:
  const TextOptions& o_;
  std::ostream& out_;
};

std::string ChangeValue(const std::optional<Value>& v) {
  if (!v) return "absent";
  if (v->is_string()) return Value(v->as_string()).ToJson();
  return v->ToJson();
}

std::string NoopWording(char sym) {
  switch (sym) {
    case '+':
      return " (would create)";
    case '-':
      return " (would remove)";
    default:
      return " (would change)";
  }
}

}  // namespace

const char* StatusName(Status s) {
  switch (s) {
    case Status::kUnchanged:
      return "unchanged";
    case Status::kChanged:
      return "changed";
    case Status::kFailed:
      return "failed";
    case Status::kSkipped:
      return "skipped";
  }
  return "unchanged";
}

int Report::Count(Status s) const {
  int n = 0;
  for (const auto& r : resources) n += r.status == s;
  return n;
}

std::string RenderJson(const Report& report) {
  Json j;
  j["report_version"] = report.report_version;
#ifdef KEEL_VERSION
  j["keel_version"] = report.keel_version.empty() ? KEEL_VERSION : report.keel_version;
#else
  j["keel_version"] = report.keel_version;
#endif
  j["noop"] = report.noop;
  j["root"] = report.root;
  j["source"] = {{"path", report.source_path},
                 {"git_url", OptString(report.git_url)},
                 {"commit", OptString(report.commit)}};
  j["started_at"] = report.started_at;
  j["duration_s"] = report.duration_s;
  j["summary"] = {{"total", report.resources.size()},
                  {"changed", report.Count(Status::kChanged)},
                  {"failed", report.Count(Status::kFailed)},
                  {"skipped", report.Count(Status::kSkipped)},
                  {"unchanged", report.Count(Status::kUnchanged)}};
  j["reboot_required"] = report.reboot_required;
  Json resources = Json::array();
  for (const ResourceReport& r : report.resources) {
    Json changes = Json::array();
    for (const Change& c : r.changes) {
      Json cj;
      cj["attribute"] = c.attr;
      cj["from"] = c.from ? ToJson(*c.from) : Json(nullptr);
      cj["to"] = c.to ? ToJson(*c.to) : Json(nullptr);
      changes.push_back(std::move(cj));
    }
    Json rj;
    rj["id"] = r.id;
    rj["type"] = r.type;
    rj["title"] = r.title;
    rj["status"] = StatusName(r.status);
    rj["changes"] = std::move(changes);
    rj["diff"] = NonEmpty(r.diff);
    rj["refreshed"] = r.refreshed;
    rj["error"] = OptString(r.error);
    rj["message"] = OptString(r.message);
    rj["duration_s"] = r.duration_s;
    rj["output"] = NonEmpty(r.output);
    resources.push_back(std::move(rj));
  }
  j["resources"] = std::move(resources);
  j["warnings"] = report.warnings;
  // Command output and file content may hold bytes that are not UTF-8:
  // replace them rather than throw.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

void RenderText(const Report& report, const TextOptions& options, std::ostream& out) {
  Printer p(options, out);
  for (const ResourceReport& r : report.resources) {
    char sym = SymbolOf(r);
    bool failed = r.status == Status::kFailed;
    bool skipped = r.status == Status::kSkipped;
    bool changed = r.status == Status::kChanged;
    // A refresh of an otherwise unchanged resource gets its own mark.
    bool refreshed_only = r.status == Status::kUnchanged && r.refreshed;
    if (refreshed_only) sym = '*';
    bool show = options.verbosity < 0
                    ? failed
                    : (failed || skipped || changed || refreshed_only || options.verbosity > 0);
    if (!show) continue;

    std::string mark(1, sym);
    p.Colored(SymbolColor(sym), mark);
    out << " " << r.id;
    if (report.noop && changed) out << NoopWording(sym);
    if (refreshed_only && !r.message) out << (report.noop ? " (would refresh)" : " (refreshed)");
    if (r.message && !r.message->empty()) out << ": " << *r.message;
    if (options.verbosity > 0) out << " (" << Seconds(r.duration_s) << " s)";
    out << "\n";

    if (options.verbosity < 0) {
      if (r.error) p.Block(*r.error, false);
      continue;
    }
    if ((failed || skipped) && r.error) p.Block(*r.error, false);
    bool diffs = options.show_diffs || options.verbosity > 0;
    if (changed && diffs) {
      // Attribute changes; one that carries a content diff shows the diff.
      for (const Change& c : r.changes) {
        if (!c.detail.empty() && !r.diff.empty()) continue;
        p.Block(c.attr + ": " + ChangeValue(c.from) + " -> " + ChangeValue(c.to), false);
      }
      if (!r.diff.empty()) p.Block(r.diff, true);
    }
    // Command output: the last lines of a failure, all of it with -v.
    if (!r.output.empty() && (failed || options.verbosity > 0)) {
      std::vector<std::string_view> lines = Lines(r.output);
      size_t first = failed && options.verbosity <= 0 && lines.size() > 10 ? lines.size() - 10 : 0;
      for (size_t k = first; k < lines.size(); ++k) out << "    | " << lines[k] << "\n";
    }
  }
  if (options.verbosity >= 0) {
    for (const std::string& w : report.warnings) {
      p.Colored(kYellow, "warning:");
      out << " " << w << "\n";
    }
  }
  out << "changed " << report.Count(Status::kChanged) << ", failed "
      << report.Count(Status::kFailed) << ", skipped " << report.Count(Status::kSkipped)
      << ", unchanged " << report.Count(Status::kUnchanged) << " (" << Seconds(report.duration_s)
      << " s)\n";
  if (report.reboot_required && !report.noop) out << "reboot required\n";
}

int ExitCode(const Report& report, bool detailed) {
  bool failures = report.Count(Status::kFailed) > 0 || report.Count(Status::kSkipped) > 0;
  bool changes = report.Count(Status::kChanged) > 0;
  if (!detailed) return failures ? 1 : 0;
  return (changes ? 2 : 0) | (failures ? 4 : 0);
}

}  // namespace keel
