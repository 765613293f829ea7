// modprobe.d files (modprobe.d(5)) as data: a pure parser/serializer (no
// I/O). Parse() then Render() gives back the exact bytes. Edits touch only
// the lines of one module: "options M ...", "alias NAME M", "blacklist M",
// "install M ..."; every other line is kept byte for byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::modprobe {

/// kmod treats '-' and '_' in module names alike.
std::string ModuleKey(std::string_view module);

using Options = std::vector<std::pair<std::string, std::string>>;
/// "type=kcs ports=0xca2"; a value with blanks (or empty) is double-quoted.
std::string RenderOptions(const Options& options);
/// Splits "a=1 b=\"x y\" c" into pairs (quotes removed; a bare word has "").
Options ParseOptions(std::string_view text);

/// What a file says about one module.
struct ModuleState {
  Options options;                   // of every options line, in order
  std::vector<std::string> aliases;  // names of "alias NAME M" lines
  bool blacklist = false;
  std::optional<std::string> install;  // the command of the first install line
  bool mentioned = false;              // any line names the module
};

/// The lines one module should have; an unset field is not managed.
struct ModuleSpec {
  std::string module;
  std::optional<Options> options;  // empty: no options line
  std::optional<std::vector<std::string>> aliases;
  std::optional<bool> blacklist;
  std::optional<std::string> install;  // "": no install line
  bool absent = false;                 // drop every line of the module
};

/// One logical line (physical lines joined by a trailing backslash).
struct ConfLine {
  std::string raw;                  // exact text, continuation newlines included
  std::vector<std::string> tokens;  // empty for comments and blanks
};

class ModprobeConf {
 public:
  static ModprobeConf Parse(std::string_view text);
  std::string Render() const;
  ModuleState Inspect(std::string_view module) const;
  /// Makes the file say what `spec` asks: options on one line (kept as is
  /// when it holds the same pairs in any order), one alias line per name
  /// (an "alias NAME other" line is pointed at the module), one blacklist
  /// line, one install line. New lines go after the module's last line,
  /// else at the end.
  void Apply(const ModuleSpec& spec);
  /// True when the file has no lines other than blanks.
  bool Empty() const;

 private:
  std::vector<ConfLine> lines_;
  bool final_newline_ = true;
};

}  // namespace keel::modprobe
