// modprobe.d files (modprobe.d(5)) as data: a pure parser/serializer (no
// I/O). The parsed file is a view of the text (no per-line strings);
// Parse() then Render() gives back the exact bytes. Edits touch only
// the lines of one module: "options M ...", "alias NAME M", "blacklist M",
// "install M ..."; every other line is kept byte for byte.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "resources/common/line_edits.h"

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

/// Finds the next logical line of a modprobe.d text: physical lines
/// joined while one ends (after any '\r') with a backslash and has its
/// '\n'. `pos` starts at 0; `line` covers the physical lines (the '\n's
/// between them included, the last '\n' excluded). `words` is the text
/// the words are read from: `line`, one byte longer when the text ends in
/// a continuation line (its final '\n' then joins nothing, as modprobe
/// reads it). False at the end.
bool NextLogicalLine(std::string_view text, size_t& pos, edit::LineSpan& line,
                     std::string_view& words);

class ModprobeConf {
 public:
  /// Views `text`: it must outlive this object and not change.
  static ModprobeConf Parse(std::string_view text);
  /// The text with the edits of Apply.
  std::string Render() const { return edits_.Render(); }
  /// True when Apply recorded an edit (Render may still equal the text).
  bool edited() const { return edits_.edited(); }
  ModuleState Inspect(std::string_view module) const;
  /// Inspect() of each key of `states` (ModuleKey form) in one pass.
  void InspectAll(std::map<std::string, ModuleState>& states) const;
  /// Makes the file say what `spec` asks: options on one line (kept as is
  /// when it holds the same pairs in any order), one alias line per name
  /// (an "alias NAME other" line is pointed at the module), one blacklist
  /// line, one install line. New lines go after the module's last line,
  /// else at the end. Call it once per parsed text.
  void Apply(const ModuleSpec& spec);
  /// True when `text` has no characters other than blanks (a file that
  /// ensure: absent leaves so is removed).
  static bool Blank(std::string_view text);

 private:
  explicit ModprobeConf(std::string_view text) : text_(text), edits_(text) {}
  std::string_view text_;
  edit::LineEdits edits_;
};

/// The lines of a modprobe file by module, built in one pass: lets N
/// `modprobe` resources on one file answer without N scans (a no-op run of
/// 4,000 modules on one file scanned it 4,000 times). A question about one
/// module is answered by ModprobeConf on a text of only the lines that can
/// matter to it (its own, and aliases of the names it wants). Holds views
/// into the text, which must outlive it unchanged.
class ModprobeIndex {
 public:
  static ModprobeIndex Build(std::string_view text);
  /// ModprobeConf::Inspect, answered from the module's lines.
  ModuleState Inspect(std::string_view module) const;
  /// True when ModprobeConf::Apply(spec) would record no edit. False means
  /// "maybe": the caller edits as usual.
  bool InPlace(const ModuleSpec& spec) const;

 private:
  // The module's lines (and with `aliases`, the alias lines of those
  // names), in file order.
  std::string LinesOf(std::string_view key, const std::vector<std::string>* aliases) const;
  std::string_view text_;
  std::unordered_map<std::string, std::vector<edit::LineSpan>> by_module_;  // by ModuleKey
  std::unordered_map<std::string, std::vector<edit::LineSpan>> by_alias_;   // by NAME
};

}  // namespace keel::modprobe
