// A shell-style file of KEY=value assignments (/etc/sysconfig/*, ifcfg-*,
// /etc/default/grub, /etc/selinux/config): the text, kept whole, and a
// compact index of its chunks (8 bytes each): the assignments keel may
// change, and the other code that might assign a variable. Comments, blank
// lines and here-document bodies are not indexed. Every byte keel does not
// edit is kept as it is; Render() of an unedited file is its input.
//
// Where keel cannot be sure how bash reads a line (an assignment inside an
// if/case/loop/function body, a variable assigned by other code such as
// `A=1 B=2`, `read B`, `B=(array)`, `${B:=x}`, a quote or block that never
// closes, a construct the scanner does not follow), the index says so:
// Set then appends a new top-level assignment after it instead of cutting
// the line, and Problem() names the line so that a removal fails clearly.
// A new line never goes after a command that may stop the sourcing (exit,
// return, exec): bash would never read it.
// Pure: text in, text out.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "resources/common/shell_quote.h"

namespace keel::shell {

class ShellFile {
 public:
  /// Indexes a copy of `text`.
  static ShellFile Parse(std::string_view text);
  /// Indexes `text` without copying it (shared with the caller).
  static ShellFile Parse(std::shared_ptr<const std::string> text);
  /// The text (with every Set/Remove applied).
  std::string Render() const { return std::string(*text_); }
  const std::shared_ptr<const std::string>& text() const { return text_; }

  /// The effective (last) plain assignment of `key` that keel parsed (at
  /// top level or inside a block); nullptr when none.
  const Assignment* Find(std::string_view key) const;
  /// Keys assigned in the file, in order of first appearance.
  std::vector<std::string> Keys() const;

  /// Gives `key` the value `value`. The last place that sets the key must be
  /// a plain top-level assignment: it is rewritten in place, keeping its
  /// indentation, `export`, trailing comment and (unless `requested`) its
  /// quote style. Otherwise (no assignment, or the last one is inside a
  /// block or other code may set the key after it) `KEY=value` is appended
  /// at the end of the file (in `new_style` when given and nothing is
  /// requested, else as `requested` / auto). Nothing changes when that last
  /// assignment already gives `value` (and is in the requested style).
  /// A file that may stop being read (a top-level `exit`, `return`, `exec`,
  /// or `exit` in a function, at line S): a line that must be new goes
  /// before the top-level command holding the first stop instead of at the
  /// end, and plain top-level assignments of the key after it get the value
  /// too — so bash sees the value whether or not it stops there.
  /// Problem(key, false) refuses when anything else after it uses the key.
  /// Call Problem(key, false) first: on a file keel cannot follow, appending
  /// is not safe either.
  void Set(std::string_view key, std::string_view value, std::optional<QuoteStyle> requested,
           std::optional<QuoteStyle> new_style = std::nullopt);
  /// Removes every plain top-level assignment of `key`; returns how many.
  /// Call Problem(key, true) first: it names what would stay.
  size_t Remove(std::string_view key);

  /// Why keel cannot set (removal = false) or remove (removal = true) `key`
  /// exactly as bash would see it: "line N: ..."; nullopt when it can.
  std::optional<std::string> Problem(std::string_view key, bool removal) const;

  /// The new text after Set / Remove without changing this file (and
  /// without copying its index): nullopt when nothing would change.
  std::optional<std::string> SetText(std::string_view key, std::string_view value,
                                     std::optional<QuoteStyle> requested,
                                     std::optional<QuoteStyle> new_style = std::nullopt) const;
  std::optional<std::string> RemoveText(std::string_view key) const;

  /// Points this file at `same` (the very text it holds, owned elsewhere,
  /// e.g. the run's shared content): no copy is kept.
  void Adopt(std::shared_ptr<const std::string> same) {
    text_ = std::move(same);
    names_.reset();  // its views were into the old text
  }

  /// Number of indexed chunks (for tests and the cache's size limit).
  size_t chunks() const { return entries_.size(); }

 private:
  enum Kind : uint8_t {
    kAssign,  // a plain assignment at top level: keel may rewrite/remove it
    kNested,  // a plain assignment inside a block (if, case, loop, function)
    kCode,    // any other code (might set a variable)
  };
  struct Entry {
    uint32_t off;
    uint32_t len : 30;  // bytes of the chunk, its final '\n' included
    uint32_t kind : 2;
  };
  // One change of the text: bytes [off, off+len) become `text`; `entry` is
  // the index of the entry replaced (or removed when remove), or npos to
  // append a new kAssign chunk at the end.
  struct Splice {
    size_t off = 0, len = 0;
    std::string text;
    size_t entry = 0;
    bool remove = false;
    bool insert = false;  // a new kAssign chunk inserted before `entry` (len 0)
  };
  std::optional<std::vector<Splice>> PlanSet(std::string_view key, std::string_view value,
                                             std::optional<QuoteStyle> requested,
                                             std::optional<QuoteStyle> new_style) const;
  std::vector<Splice> PlanRemove(std::string_view key) const;
  // The plain top-level assignment of `key` among entries [0, end) that is
  // the last place that may set it (what Set rewrites); npos when a new
  // assignment is needed (none, or the last setter is nested or other code).
  size_t LastSetter(std::string_view key, size_t end) const;
  // Parses an assignment chunk.
  bool ParseOwn(const Entry& e, Assignment& a) const;
  // Why Set cannot place `key` where bash reads it in a file that may stop
  // being read (exit, return, exec): the key is used after the stop.
  std::optional<std::string> StopConflict(std::string_view key) const;
  // The line of the first stop command (0 when none).
  size_t StopLine() const;
  std::string ApplyText(const std::vector<Splice>& s) const;
  void Apply(const std::vector<Splice>& s);
  void Index();

  std::string_view Chunk(const Entry& e) const {
    return std::string_view(*text_).substr(e.off, e.len);
  }
  // The key of an assignment chunk (a view into the text).
  std::string_view KeyOf(const Entry& e) const;
  // How `key` appears in a chunk that is not its own plain assignment.
  enum class Mention { kNone, kReference, kExportOnly, kUnset, kSets };
  Mention MentionIn(const Entry& e, std::string_view key) const;
  size_t LineOf(size_t off) const;

  std::shared_ptr<const std::string> text_;
  std::vector<Entry> entries_;
  std::optional<std::string> unsure_;  // why the whole file cannot be followed
  // The first top-level entry at which bash may stop reading the file (a
  // command holding exit, logout, exec, or return outside a function, or
  // the block around it); nullopt when none. A new assignment goes before
  // it. stop_word_ is the command, stop_delta_ its offset in the entry.
  std::optional<size_t> stop_;
  std::string stop_word_;
  size_t stop_delta_ = 0;
  mutable std::map<size_t, Assignment> parsed_;  // Find's answers, by entry

  // Where each name occurs, built on the kNamesAfter-th lookup of one
  // version of a file: a no-op run of N resources on one file looks one
  // version up about 6N times (without the index each lookup scans every
  // entry: O(N^2)); a cold run makes a version per resource, looked up a
  // few times each (an index of each would cost more than it saves). Per
  // name, 1 + the
  // index of the last entry that is its plain assignment (kAssign or
  // kNested), and 1 + the index of the last entry holding it as a word
  // (what MentionIn looks for); 0 when none. Views into text_: reset with
  // every change of it.
  struct NameAt {
    uint32_t assign = 0;
    uint32_t word = 0;
  };
  using Names = std::unordered_map<std::string_view, NameAt>;
  static constexpr uint32_t kNamesAfter = 64;
  static constexpr size_t kNamesMaxEntries = size_t{1} << 18;
  const Names* NamesIndex() const;
  mutable std::shared_ptr<const Names> names_;
  mutable uint32_t lookups_ = 0;
};

/// True when `a` already gives `value` (no expansion involved) and, if a
/// style is requested, is written in that style.
bool Satisfies(const Assignment& a, std::string_view value, std::optional<QuoteStyle> requested);

}  // namespace keel::shell
