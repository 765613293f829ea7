// The run report: JSON through the adapter engine/json.h (field order as SPEC 5),
// text for people, exit codes.
#include "engine/report.h"

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "engine/interrupt.h"
#include "engine/json.h"
#include "engine/text_lines.h"

namespace keel {
namespace {

Value OptString(const std::optional<std::string>& s) { return s ? Value(*s) : Value(); }

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
    for (std::string_view line : SplitLines(text)) {
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
  // The fields of SPEC 5 in their order, as JsonPretty writes one map (the
  // JSON adapter replaces bytes that are not UTF-8, command output or file
  // content, rather than failing). Streamed member by member: each
  // resource's map is built, written and freed in turn (a tree of the
  // whole report was ~190 MB at 100,000 resources).
  std::string out = "{";
  bool first = true;
  auto member = [&](std::string_view key, const Value& v) {
    out += first ? "\n  " : ",\n  ";
    first = false;
    JsonStringInto(key, out);
    out += ": ";
    JsonPrettyInto(v, out, 1);
  };
  member("report_version", report.report_version);
#ifdef KEEL_VERSION
  member("keel_version", report.keel_version.empty() ? KEEL_VERSION : report.keel_version);
#else
  member("keel_version", report.keel_version);
#endif
  member("noop", report.noop);
  member("root", report.root);
  member("source", Map{{"path", report.source_path},
                       {"git_url", OptString(report.git_url)},
                       {"commit", OptString(report.commit)}});
  member("started_at", report.started_at);
  member("duration_s", report.duration_s);
  member("summary", Map{{"total", static_cast<int64_t>(report.resources.size())},
                        {"changed", report.Count(Status::kChanged)},
                        {"failed", report.Count(Status::kFailed)},
                        {"skipped", report.Count(Status::kSkipped)},
                        {"unchanged", report.Count(Status::kUnchanged)}});
  member("reboot_required", report.reboot_required);
  out += ",\n  \"resources\": ";
  if (report.resources.empty()) {
    out += "[]";
  } else {
    out.reserve(out.size() + report.resources.size() * 320);
    out += '[';
    bool first_resource = true;
    for (const ResourceReport& r : report.resources) {
      // One resource's map, written directly (as JsonPrettyInto writes a
      // map nested two levels deep): no Value tree per resource.
      out += first_resource ? "\n    {" : ",\n    {";
      first_resource = false;
      bool first_field = true;
      auto field = [&](std::string_view key) {
        out += first_field ? "\n      " : ",\n      ";
        first_field = false;
        JsonStringInto(key, out);
        out += ": ";
      };
      auto text = [&](std::string_view key, std::string_view v) {
        field(key);
        JsonStringInto(v, out);
      };
      auto text_or_null = [&](std::string_view key, const std::string* v) {
        field(key);
        if (v)
          JsonStringInto(*v, out);
        else
          out += "null";
      };
      text("id", r.id);
      text("type", r.type);
      text("title", r.title);
      text("status", StatusName(r.status));
      field("changes");
      if (r.changes.empty()) {
        out += "[]";
      } else {
        List changes;
        for (const Change& c : r.changes) {
          changes.emplace_back(Map{{"attribute", c.attr},
                                   {"from", c.from ? *c.from : Value()},
                                   {"to", c.to ? *c.to : Value()}});
        }
        JsonPrettyInto(Value(std::move(changes)), out, 3);
      }
      text_or_null("diff", r.diff.empty() ? nullptr : &r.diff);
      field("refreshed");
      out += r.refreshed ? "true" : "false";
      text_or_null("error", r.error ? &*r.error : nullptr);
      text_or_null("message", r.message ? &*r.message : nullptr);
      field("duration_s");
      JsonPrettyInto(Value(r.duration_s), out, 3);
      text_or_null("output", r.output.empty() ? nullptr : &r.output);
      out += "\n    }";
    }
    out += "\n  ]";
  }
  member("warnings", List(report.warnings.begin(), report.warnings.end()));
  // Beyond SPEC 5's fields: run errors and the stop by a signal.
  member("errors", List(report.errors.begin(), report.errors.end()));
  if (report.interrupted) {
    List never(report.never_ran.begin(), report.never_ran.end());
    member("interrupted",
           Map{{"signal", report.interrupt_signal == 2    ? Value("SIGINT")
                          : report.interrupt_signal == 15 ? Value("SIGTERM")
                          : report.interrupt_signal == 0
                              ? Value()
                              : Value("signal " + std::to_string(report.interrupt_signal))},
               {"never_ran", std::move(never)}});
  } else {
    member("interrupted", Value());
  }
  out += "\n}\n";
  return out;
}

void RenderText(const Report& report, const TextOptions& options, std::ostream& out) {
  Printer p(options, out);
  for (const ResourceReport& r : report.resources) {
    char sym = SymbolOf(r);
    bool failed = r.status == Status::kFailed;
    bool skipped = r.status == Status::kSkipped;
    bool changed = r.status == Status::kChanged;
    // A refresh of an otherwise unchanged resource gets its own mark (it
    // counts as changed: SPEC 5).
    bool refreshed_only = (r.status == Status::kUnchanged || r.status == Status::kChanged) &&
                          r.refreshed && r.changes.empty();
    if (refreshed_only) sym = '*';
    bool show = options.verbosity < 0
                    ? failed
                    : (failed || skipped || changed || refreshed_only || options.verbosity > 0);
    if (!show) continue;

    std::string mark(1, sym);
    p.Colored(SymbolColor(sym), mark);
    out << " " << r.id;
    if (report.noop && changed && !refreshed_only) out << NoopWording(sym);
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
      std::vector<std::string_view> lines = SplitLines(r.output);
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
  for (const std::string& e : report.errors) {
    p.Colored(kRed, "error:");
    out << " " << e << "\n";
  }
  // Paths in messages are inside the root; the root is named once.
  if (!report.root.empty() && report.root != "/" &&
      (report.Count(Status::kFailed) > 0 || !report.errors.empty()))
    out << "(paths are inside the root " << report.root << ")\n";
  out << "changed " << report.Count(Status::kChanged) << ", failed "
      << report.Count(Status::kFailed) << ", skipped " << report.Count(Status::kSkipped)
      << ", unchanged " << report.Count(Status::kUnchanged) << " (" << Seconds(report.duration_s)
      << " s)\n";
  if (report.reboot_required && !report.noop) out << "reboot required\n";
  if (report.interrupted) {
    out << "interrupted";
    if (report.interrupt_signal == 2) out << " by SIGINT";
    if (report.interrupt_signal == 15) out << " by SIGTERM";
    out << ": " << report.never_ran.size() << " resource(s) never ran\n";
  }
}

int ExitCode(const Report& report, bool detailed) {
  if (report.interrupted) return InterruptedExitCode(report.interrupt_signal);
  bool failures = report.Count(Status::kFailed) > 0 || report.Count(Status::kSkipped) > 0 ||
                  !report.errors.empty();
  bool changes = report.Count(Status::kChanged) > 0;
  if (!detailed) return failures ? 1 : 0;
  return (changes ? 2 : 0) | (failures ? 4 : 0);
}

}  // namespace keel
