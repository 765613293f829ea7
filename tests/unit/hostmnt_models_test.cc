// The hosts and fstab formats as they were before the edits moved to
// views of the text (edit::LineEdits): a vector of per-line structs,
// parsed, edited and rendered back. Kept here, unchanged, as the reference
// model the new code must match byte for byte on random files and edits.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "resources/common/edit.h"
#include "resources/host/hosts_file.h"
#include "resources/mount/fstab.h"
#include "tests/unit/support/random.h"

namespace hostmnt_model {
namespace hosts {
using namespace keel;

struct HostsLine {
  bool is_entry = false;
  std::string raw;
  std::string indent;
  std::string ip;
  std::vector<std::string> names;
  std::vector<std::string> seps;
  std::string trailer;
  std::string Render() const;
};

using HostEntry = keel::hosts::HostEntry;

class HostsFile {
 public:
  static HostsFile Parse(std::string_view text);
  std::string Render() const;
  std::optional<HostEntry> Find(std::string_view name) const;
  void Set(std::string_view name, const HostEntry& entry);
  void Remove(std::string_view name);

 private:
  std::vector<HostsLine> lines_;
  bool final_newline_ = true;
};

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool AllSpaces(std::string_view s) {
  return !s.empty() && s.find_first_not_of(' ') == std::string_view::npos;
}

HostsLine ParseLine(std::string_view line) {
  HostsLine out;
  out.raw = std::string(line);
  std::string_view body = line;
  std::string trailer;
  if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
  size_t hash = body.find('#');
  size_t end = hash == std::string_view::npos ? body.size() : hash;
  while (end > 0 && IsBlank(body[end - 1])) --end;
  out.trailer = std::string(line.substr(end));
  body = body.substr(0, end);
  size_t i = 0;
  while (i < body.size() && IsBlank(body[i])) ++i;
  out.indent = std::string(body.substr(0, i));
  std::vector<std::string> seps, tokens;
  std::string sep;
  while (i < body.size()) {
    size_t s = i;
    while (i < body.size() && IsBlank(body[i])) ++i;
    sep = std::string(body.substr(s, i - s));
    s = i;
    while (i < body.size() && !IsBlank(body[i])) ++i;
    seps.push_back(sep);
    tokens.emplace_back(body.substr(s, i - s));
  }
  // A line needs an address and at least one name to be an entry.
  if (tokens.size() < 2) return out;
  out.is_entry = true;
  out.ip = tokens[0];
  out.names.assign(tokens.begin() + 1, tokens.end());
  out.seps.assign(seps.begin() + 1, seps.end());
  return out;
}

int IndexOf(const HostsLine& l, std::string_view name) {
  for (size_t i = 0; i < l.names.size(); ++i)
    if (SameName(l.names[i], name)) return static_cast<int>(i);
  return -1;
}

// Removes names[i]; when the first name goes, the separator after the
// address stays and the next name's separator goes.
void EraseName(HostsLine& l, size_t i) {
  if (i == 0 && l.names.size() > 1) {
    l.seps.erase(l.seps.begin() + 1);
  } else {
    l.seps.erase(l.seps.begin() + static_cast<long>(i));
  }
  l.names.erase(l.names.begin() + static_cast<long>(i));
  if (l.names.empty()) l.seps.clear();
}

// The separator used between names on `l` (or the fallback).
std::string NameSep(const HostsLine& l, const std::string& fallback) {
  if (l.seps.size() >= 2) return l.seps[1];
  return fallback;
}

// Whitespace after the address that keeps the names at `col` when the
// style is space-padding, or `sep` verbatim otherwise.
std::string AddressSep(const std::string& indent, const std::string& ip, const std::string& sep,
                       size_t col) {
  if (sep.size() < 2 || !AllSpaces(sep)) return sep;
  size_t used = indent.size() + ip.size();
  return std::string(col > used ? col - used : 1, ' ');
}

}  // namespace

std::string HostsLine::Render() const {
  if (!is_entry) return raw;
  std::string out = indent + ip;
  for (size_t i = 0; i < names.size(); ++i) out += seps[i] + names[i];
  return out + trailer;
}

HostsFile HostsFile::Parse(std::string_view text) {
  HostsFile f;
  f.lines_ = edit::ParseLines<decltype(f.lines_)::value_type>(
      text, [](std::string_view line) { return ParseLine(line); }, f.final_newline_);
  return f;
}

std::string HostsFile::Render() const { return edit::RenderLines(lines_, final_newline_); }

std::optional<HostEntry> HostsFile::Find(std::string_view name) const {
  const HostsLine* alias_line = nullptr;
  for (const auto& l : lines_) {
    if (!l.is_entry) continue;
    int i = IndexOf(l, name);
    if (i == 0) return HostEntry{l.ip, {l.names.begin() + 1, l.names.end()}};
    if (i > 0 && !alias_line) alias_line = &l;
  }
  if (alias_line) return HostEntry{alias_line->ip, {}};
  return std::nullopt;
}

void HostsFile::Set(std::string_view name, const HostEntry& entry) {
  std::vector<std::string> want_names{std::string(name)};
  want_names.insert(want_names.end(), entry.aliases.begin(), entry.aliases.end());

  int target = -1;
  for (size_t k = 0; k < lines_.size() && target < 0; ++k)
    if (lines_[k].is_entry && IndexOf(lines_[k], name) == 0) target = static_cast<int>(k);

  // Every other mention goes.
  for (size_t k = 0; k < lines_.size(); ++k) {
    if (static_cast<int>(k) == target || !lines_[k].is_entry) continue;
    int i = IndexOf(lines_[k], name);
    if (i >= 0) EraseName(lines_[k], static_cast<size_t>(i));
  }

  // New lines copy the last entry of the same address family (IPv4 and
  // IPv6 blocks are often written differently), else the last entry.
  const HostsLine* style = nullptr;
  const HostsLine* same_family = nullptr;
  bool v6 = entry.ip.find(':') != std::string::npos;
  for (const auto& l : lines_) {
    if (!l.is_entry || l.names.empty()) continue;
    style = &l;
    if ((l.ip.find(':') != std::string::npos) == v6) same_family = &l;
  }
  if (same_family) style = same_family;

  if (target >= 0) {
    HostsLine& l = lines_[static_cast<size_t>(target)];
    if (l.ip != entry.ip) {
      size_t col = l.indent.size() + l.ip.size() + l.seps[0].size();
      l.seps[0] = AddressSep(l.indent, entry.ip, l.seps[0], col);
      l.ip = entry.ip;
    }
    // Keep the exact spelling of names that are already right.
    bool same = l.names.size() == want_names.size();
    for (size_t i = 0; same && i < want_names.size(); ++i) same = l.names[i] == want_names[i];
    if (!same) {
      std::string between = NameSep(l, style ? NameSep(*style, " ") : " ");
      l.seps.resize(want_names.size(), between);
      l.names = want_names;
    }
  } else {
    HostsLine l;
    l.is_entry = true;
    l.ip = entry.ip;
    l.names = want_names;
    std::string sep0 = "\t", between = " ";
    if (style) {
      l.indent = style->indent;
      size_t col = style->indent.size() + style->ip.size() + style->seps[0].size();
      sep0 = AddressSep(l.indent, l.ip, style->seps[0], col);
      between = NameSep(*style, " ");
    }
    l.seps.assign(want_names.size(), between);
    l.seps[0] = sep0;
    // A file whose last line lacks '\n' gets it now that a line follows.
    final_newline_ = true;
    lines_.push_back(std::move(l));
  }
  std::erase_if(lines_, [](const HostsLine& l) { return l.is_entry && l.names.empty(); });
}

void HostsFile::Remove(std::string_view name) {
  std::vector<HostsLine> kept;
  for (auto& l : lines_) {
    if (l.is_entry) {
      int i = IndexOf(l, name);
      if (i == 0) continue;
      if (i > 0) EraseName(l, static_cast<size_t>(i));
    }
    kept.push_back(std::move(l));
  }
  lines_ = std::move(kept);
  if (lines_.empty()) final_newline_ = true;
}

}  // namespace hosts

namespace fstab {
using namespace keel;

using Entry = keel::fstab::Entry;
using keel::fstab::Decode;
using keel::fstab::Encode;

struct FstabLine {
  bool is_entry = false;
  std::string raw;
  std::string indent;
  std::vector<std::string> fields;
  std::vector<std::string> seps;
  std::string trailer;
  std::string Render() const;
  Entry ToEntry() const;
};

class Fstab {
 public:
  static Fstab Parse(std::string_view text);
  std::string Render() const;
  std::optional<Entry> Find(std::string_view point) const;
  void Set(const Entry& entry);
  void Remove(std::string_view point);

 private:
  std::vector<FstabLine> lines_;
  bool final_newline_ = true;
};

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Display column after `text` starting at `col`, tabs to multiples of 8.
size_t Advance(size_t col, std::string_view text) {
  for (char c : text) col = c == '\t' ? (col / 8 + 1) * 8 : col + 1;
  return col;
}

// Whitespace that moves from column `col` to `target`, with tabs or
// spaces; at least one character.
std::string Pad(size_t col, size_t target, bool tabs) {
  std::string out;
  if (tabs) {
    do {
      out += '\t';
      col = (col / 8 + 1) * 8;
    } while (col < target);
    return out;
  }
  return std::string(target > col ? target - col : 1, ' ');
}

FstabLine ParseLine(std::string_view line) {
  FstabLine out;
  out.raw = std::string(line);
  std::string_view body = line;
  size_t end = body.size();
  while (end > 0 && (IsBlank(body[end - 1]) || body[end - 1] == '\r')) --end;
  out.trailer = std::string(body.substr(end));
  body = body.substr(0, end);
  size_t i = 0;
  while (i < body.size() && IsBlank(body[i])) ++i;
  out.indent = std::string(body.substr(0, i));
  if (i >= body.size() || body[i] == '#') return out;
  std::vector<std::string> seps, fields;
  bool first = true;
  while (i < body.size()) {
    size_t s = i;
    while (i < body.size() && IsBlank(body[i])) ++i;
    seps.emplace_back(first ? std::string_view() : body.substr(s, i - s));
    first = false;
    s = i;
    while (i < body.size() && !IsBlank(body[i])) ++i;
    fields.emplace_back(body.substr(s, i - s));
  }
  // fstab(5) has 4 to 6 fields; anything else is kept as written.
  if (fields.size() < 4 || fields.size() > 6) return out;
  out.is_entry = true;
  out.fields = std::move(fields);
  out.seps = std::move(seps);
  return out;
}

std::string Num(const std::string& s) {
  size_t i = s.find_first_not_of('0');
  return i == std::string::npos ? "0" : s.substr(i);
}

// The layout new lines follow: separators of one character everywhere, or
// per-field start columns (the most common one of each field).
struct Layout {
  std::string single;  // " " or "\t" when every separator is exactly that
  std::vector<size_t> columns;
  bool tabs = false;
};

Layout FileLayout(const std::vector<FstabLine>& lines) {
  Layout out;
  std::vector<std::map<size_t, int>> counts(6);
  bool all_tab = true, all_space = true, any = false, any_space = false;
  for (const auto& l : lines) {
    if (!l.is_entry) continue;
    size_t col = Advance(0, l.indent + l.fields[0]);
    for (size_t i = 1; i < l.fields.size() && i < 6; ++i) {
      any = true;
      const std::string& s = l.seps[i];
      all_tab = all_tab && s == "\t";
      all_space = all_space && s == " ";
      any_space = any_space || s.find(' ') != std::string::npos;
      col = Advance(col, s);
      counts[i][col]++;
      col = Advance(col, l.fields[i]);
    }
  }
  if (!any || all_tab) {
    out.single = "\t";
    return out;
  }
  if (all_space) {
    out.single = " ";
    return out;
  }
  out.tabs = !any_space;
  out.columns.assign(6, 0);
  for (size_t i = 1; i < 6; ++i) {
    int best = 0;
    for (const auto& [c, n] : counts[i])
      if (n > best) best = n, out.columns[i] = c;
  }
  return out;
}

std::vector<std::string> FieldsOf(const Entry& e) {
  return {Encode(e.device), Encode(e.point), e.fstype, e.options, e.dump, e.pass};
}

}  // namespace

std::string FstabLine::Render() const {
  if (!is_entry) return raw;
  std::string out = indent;
  for (size_t i = 0; i < fields.size(); ++i) out += seps[i] + fields[i];
  return out + trailer;
}

Entry FstabLine::ToEntry() const {
  Entry e;
  e.device = Decode(fields[0]);
  e.point = Decode(fields[1]);
  e.fstype = fields[2];
  e.options = fields[3];
  e.dump = fields.size() > 4 ? fields[4] : "0";
  e.pass = fields.size() > 5 ? fields[5] : "0";
  return e;
}

Fstab Fstab::Parse(std::string_view text) {
  Fstab f;
  f.lines_ = edit::ParseLines<decltype(f.lines_)::value_type>(
      text, [](std::string_view line) { return ParseLine(line); }, f.final_newline_);
  return f;
}

std::string Fstab::Render() const { return edit::RenderLines(lines_, final_newline_); }

std::optional<Entry> Fstab::Find(std::string_view point) const {
  for (const auto& l : lines_)
    if (l.is_entry && Decode(l.fields[1]) == point) return l.ToEntry();
  return std::nullopt;
}

void Fstab::Set(const Entry& entry) {
  Layout layout = FileLayout(lines_);
  std::vector<std::string> want = FieldsOf(entry);
  bool done = false;
  std::vector<FstabLine> kept;
  for (auto& l : lines_) {
    if (!l.is_entry || Decode(l.fields[1]) != entry.point) {
      kept.push_back(std::move(l));
      continue;
    }
    if (done) continue;  // a later duplicate for the same point
    done = true;
    if (l.ToEntry().SameAs(entry)) {
      kept.push_back(std::move(l));
      continue;
    }
    // Original start column of each field, to keep padded columns.
    std::vector<size_t> cols;
    size_t col = Advance(0, l.indent);
    for (size_t i = 0; i < l.fields.size(); ++i) {
      col = Advance(col, l.seps[i]);
      cols.push_back(col);
      col = Advance(col, l.fields[i]);
    }
    // Keep a missing dump/pass missing when 0 is what is wanted.
    size_t n = l.fields.size();
    if (n < 6 && Num(want[5]) != "0") n = 6;
    if (n < 5 && Num(want[4]) != "0") n = 5;
    FstabLine out = l;
    out.fields.resize(n);
    out.seps.resize(n);
    std::string text = l.indent;
    for (size_t i = 0; i < n; ++i) {
      bool numeric = i >= 4;
      bool same = i < l.fields.size() &&
                  (numeric ? Num(l.fields[i]) == Num(want[i]) : l.fields[i] == want[i]);
      std::string value = same ? l.fields[i] : want[i];
      std::string sep;
      if (i == 0) {
        sep = "";
      } else if (i < l.seps.size() && l.seps[i].size() == 1) {
        sep = l.seps[i];
      } else if (i < l.seps.size()) {
        bool tabs = l.seps[i].find(' ') == std::string::npos;
        sep = Pad(Advance(0, text), cols[i], tabs);
      } else if (!layout.single.empty()) {
        sep = layout.single;
      } else {
        sep = Pad(Advance(0, text), layout.columns[i], layout.tabs);
      }
      out.fields[i] = value;
      out.seps[i] = sep;
      text += sep + value;
    }
    kept.push_back(std::move(out));
  }
  if (!done) {
    FstabLine l;
    l.is_entry = true;
    std::string text;
    for (size_t i = 0; i < want.size(); ++i) {
      std::string sep;
      if (i > 0)
        sep = !layout.single.empty() ? layout.single
                                     : Pad(Advance(0, text), layout.columns[i], layout.tabs);
      l.seps.push_back(sep);
      l.fields.push_back(want[i]);
      text += sep + want[i];
    }
    final_newline_ = true;
    kept.push_back(std::move(l));
  }
  lines_ = std::move(kept);
}

void Fstab::Remove(std::string_view point) {
  std::erase_if(lines_,
                [&](const FstabLine& l) { return l.is_entry && Decode(l.fields[1]) == point; });
}

}  // namespace fstab
}  // namespace hostmnt_model

namespace {

using keel::testing::Chance;
using keel::testing::Pick;
using keel::testing::Rng;

// Joins random lines; sometimes without the final newline.
std::string Join(Rng& rng, const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  if (!out.empty() && Chance(rng, 30)) out.pop_back();
  return out;
}

const std::vector<std::string> kBlanks = {" ", "\t", "  ", "        ", " \t", "\t\t", "   "};

std::string RandomHostsLine(Rng& rng) {
  static const std::vector<std::string> ips = {"10.0.0.1", "10.0.0.2", "127.0.0.1",
                                               "::1",      "fe80::1",  "192.168.100.200"};
  static const std::vector<std::string> names = {"web", "WEB", "www",      "db",
                                                 "a",   "old", "localhost"};
  static const std::vector<std::string> other = {
      "", "  \t", "# c", "  # 10.0.0.1 web", "garbage", "10.0.0.1", "\r", "#", "web # x", " \r"};
  static const std::vector<std::string> indents = {"", "", "", " ", "\t"};
  static const std::vector<std::string> trailers = {"",   "",       "",   " ",   "\t",   "  # c",
                                                    "#c", " # web", "\r", " \r", "# a\r"};
  if (Chance(rng, 25)) return Pick(rng, other);
  std::string l = Pick(rng, indents) + Pick(rng, ips);
  int n = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int i = 0; i < n; ++i) l += Pick(rng, kBlanks) + Pick(rng, names);
  return l + Pick(rng, trailers);
}

std::string RandomFstabLine(Rng& rng) {
  static const std::vector<std::string> devs = {"/dev/sda1", "UUID=abc", "LABEL=a\\040b", "tmpfs",
                                                "server:/export"};
  static const std::vector<std::string> points = {"/",    "/x",      "/y",    "/mnt/my\\040disk",
                                                  "/srv", "/x\\101", "/x\\04"};
  static const std::vector<std::string> types = {"ext4", "xfs", "tmpfs"};
  static const std::vector<std::string> opts = {"defaults", "noatime", "ro", "mode=1777"};
  static const std::vector<std::string> nums = {"0", "1", "2", "00", "01"};
  static const std::vector<std::string> other = {"", "  \t", "# c", "  #x /x", "\r", "/dev/a /x"};
  static const std::vector<std::string> indents = {"", "", "", " ", "\t"};
  static const std::vector<std::string> trailers = {"", "", "", " ", "\t", "\r", " \r", "\r\t"};
  if (Chance(rng, 20)) return Pick(rng, other);
  std::vector<std::string> fields = {Pick(rng, devs), Pick(rng, points), Pick(rng, types),
                                     Pick(rng, opts), Pick(rng, nums),   Pick(rng, nums),
                                     "extra"};
  int n = std::uniform_int_distribution<int>(3, 7)(rng);
  if (n < 7 && Chance(rng, 50)) n = std::max(n, 4);
  std::string l = Pick(rng, indents);
  // One separator style per line most of the time, like real files.
  std::string sep = Pick(rng, kBlanks);
  for (int i = 0; i < n; ++i) {
    if (i > 0) l += Chance(rng, 70) ? sep : Pick(rng, kBlanks);
    l += fields[static_cast<size_t>(i)];
  }
  return l + Pick(rng, trailers);
}

std::vector<std::string> RandomLines(Rng& rng, std::string (*line)(Rng&)) {
  std::vector<std::string> lines;
  int n = std::uniform_int_distribution<int>(0, 10)(rng);
  for (int i = 0; i < n; ++i) lines.push_back(line(rng));
  return lines;
}

}  // namespace

TEST_CASE("hostmnt models: hosts_file edits match the per-line model byte for byte") {
  Rng rng(20261202);
  const std::vector<std::string> names = {"web", "WEB", "www", "db",
                                          "a",   "old", "new", "localhost"};
  const std::vector<std::string> ips = {"10.0.0.1", "10.0.0.7", "::1", "fe80::2",
                                        "192.168.100.200"};
  for (int iter = 0; iter < 4000; ++iter) {
    std::string text = Join(rng, RandomLines(rng, RandomHostsLine));
    CAPTURE(text);
    auto model = hostmnt_model::hosts::HostsFile::Parse(text);
    // Parse copies; Borrow views `text` (the providers' way); either is
    // exercised.
    auto real =
        iter % 2 ? keel::hosts::HostsFile::Parse(text) : keel::hosts::HostsFile::Borrow(text);
    REQUIRE(real.Render() == text);
    int ops = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int op = 0; op < ops; ++op) {
      std::string name = Pick(rng, names);
      CAPTURE(name);
      if (Chance(rng, 30)) {
        model.Remove(name);
        real.Remove(name);
      } else {
        keel::hosts::HostEntry e{Pick(rng, ips), {}};
        int n = std::uniform_int_distribution<int>(0, 2)(rng);
        for (int i = 0; i < n; ++i) e.aliases.push_back(Pick(rng, names));
        CAPTURE(e.ip);
        model.Set(name, e);
        real.Set(name, e);
      }
      REQUIRE(real.Render() == model.Render());
      // changed() is exact: it is what lets the provider skip the render.
      if (op == 0) CHECK(real.changed() == (real.Render() != text));
      for (const auto& n : names) CHECK(real.Find(n) == model.Find(n));
      // The next edit starts from the rendered text, as the next resource
      // on the file does (the edit session hands it the rendered content).
      // The model object could differ from its render: after dropping an
      // unterminated last line it keeps an invisible empty line before it,
      // which a later append on the same object would reveal.
      model = hostmnt_model::hosts::HostsFile::Parse(model.Render());
    }
  }
}

TEST_CASE("hosts index: Find, InPlace and Absent answer as a scan and an edit do") {
  Rng rng(20261204);
  const std::vector<std::string> names = {"web", "WEB", "www", "db",
                                          "a",   "old", "new", "localhost"};
  const std::vector<std::string> ips = {"10.0.0.1", "10.0.0.7", "::1", "fe80::2",
                                        "192.168.100.200"};
  int in_place = 0, missed = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string text = Join(rng, RandomLines(rng, RandomHostsLine));
    CAPTURE(text);
    auto index = keel::hosts::HostsIndex::Build(text);
    for (const auto& n : names) {
      CAPTURE(n);
      auto scan = keel::hosts::HostsFile::Borrow(text);
      CHECK(index.Find(n) == scan.Find(n));
      auto removed = keel::hosts::HostsFile::Borrow(text);
      removed.Remove(n);
      CHECK(index.Absent(n) == !removed.changed());
      keel::hosts::HostEntry e{Pick(rng, ips), {}};
      int k = std::uniform_int_distribution<int>(0, 2)(rng);
      for (int i = 0; i < k; ++i) e.aliases.push_back(Pick(rng, names));
      auto set = keel::hosts::HostsFile::Borrow(text);
      set.Set(n, e);
      // "In place" is never wrong; "maybe" is allowed only when needed.
      if (index.InPlace(n, e)) CHECK_FALSE(set.changed());
      // On the result (the next run's file) the same check again; it
      // must say "in place" whenever a second edit changes nothing, but
      // for the odd lines the scan treats specially (a name twice on one
      // line, an alias equal to the name).
      std::string after = set.Render();
      auto again = keel::hosts::HostsIndex::Build(after);
      auto set2 = keel::hosts::HostsFile::Borrow(after);
      set2.Set(n, e);
      if (again.InPlace(n, e)) {
        CHECK_FALSE(set2.changed());
        ++in_place;
      } else if (!set2.changed()) {
        ++missed;
      }
    }
  }
  CAPTURE(missed);
  CHECK(in_place > 10000);
  CHECK(missed * 20 < in_place);
}

TEST_CASE("hostmnt models: fstab edits match the per-line model byte for byte") {
  Rng rng(20261203);
  const std::vector<std::string> devs = {"/dev/sda1", "UUID=abc", "LABEL=a b", "tmpfs"};
  const std::vector<std::string> points = {"/", "/x", "/y", "/mnt/my disk", "/srv", "/xA", "/new"};
  const std::vector<std::string> types = {"ext4", "xfs", "tmpfs"};
  const std::vector<std::string> opts = {"defaults", "noatime", "ro"};
  const std::vector<std::string> nums = {"0", "1", "2"};
  for (int iter = 0; iter < 4000; ++iter) {
    std::string text = Join(rng, RandomLines(rng, RandomFstabLine));
    CAPTURE(text);
    auto model = hostmnt_model::fstab::Fstab::Parse(text);
    auto real = iter % 2 ? keel::fstab::Fstab::Parse(text) : keel::fstab::Fstab::Borrow(text);
    REQUIRE(real.Render() == text);
    int ops = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int op = 0; op < ops; ++op) {
      std::string point = Pick(rng, points);
      CAPTURE(point);
      if (Chance(rng, 30)) {
        model.Remove(point);
        real.Remove(point);
      } else {
        keel::fstab::Entry e{Pick(rng, devs), point,           Pick(rng, types),
                             Pick(rng, opts), Pick(rng, nums), Pick(rng, nums)};
        CAPTURE(e.device);
        CAPTURE(e.options);
        model.Set(e);
        real.Set(e);
      }
      REQUIRE(real.Render() == model.Render());
      if (op == 0) CHECK(real.changed() == (real.Render() != text));
      for (const auto& p : points) {
        auto a = real.Find(p), b = model.Find(p);
        REQUIRE(a.has_value() == b.has_value());
        if (a)
          CHECK((a->device == b->device && a->point == b->point && a->fstype == b->fstype &&
                 a->options == b->options && a->dump == b->dump && a->pass == b->pass));
      }
      // From the rendered text, as in the hosts case above.
      model = hostmnt_model::fstab::Fstab::Parse(model.Render());
    }
  }
}

TEST_CASE("fstab index: Find, InPlace and Absent answer as a scan and an edit do") {
  Rng rng(20261205);
  const std::vector<std::string> devs = {"/dev/sda1", "UUID=abc", "LABEL=a b", "tmpfs"};
  const std::vector<std::string> points = {"/", "/x", "/y", "/mnt/my disk", "/srv", "/xA", "/new"};
  const std::vector<std::string> types = {"ext4", "xfs", "tmpfs"};
  const std::vector<std::string> opts = {"defaults", "noatime", "ro"};
  const std::vector<std::string> nums = {"0", "1", "2"};
  auto same = [](const std::optional<keel::fstab::Entry>& a,
                 const std::optional<keel::fstab::Entry>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->device == b->device && a->point == b->point && a->fstype == b->fstype &&
                  a->options == b->options && a->dump == b->dump && a->pass == b->pass);
  };
  int in_place = 0, missed = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string text = Join(rng, RandomLines(rng, RandomFstabLine));
    CAPTURE(text);
    auto index = keel::fstab::FstabIndex::Build(text);
    for (const auto& p : points) {
      CAPTURE(p);
      CHECK(same(index.Find(p), keel::fstab::Fstab::Borrow(text).Find(p)));
      auto removed = keel::fstab::Fstab::Borrow(text);
      removed.Remove(p);
      CHECK(index.Absent(p) == !removed.changed());
      keel::fstab::Entry e{Pick(rng, devs), p, Pick(rng, types), Pick(rng, opts), Pick(rng, nums),
                           Pick(rng, nums)};
      auto set = keel::fstab::Fstab::Borrow(text);
      set.Set(e);
      if (index.InPlace(e)) CHECK_FALSE(set.changed());
      // On the result (the next run's file): "in place" whenever a second
      // edit changes nothing.
      std::string after = set.Render();
      auto again = keel::fstab::FstabIndex::Build(after);
      auto set2 = keel::fstab::Fstab::Borrow(after);
      set2.Set(e);
      if (again.InPlace(e)) {
        CHECK_FALSE(set2.changed());
        ++in_place;
      } else if (!set2.changed()) {
        ++missed;
      }
    }
  }
  CAPTURE(missed);
  CHECK(in_place > 10000);
  CHECK(missed * 20 < in_place);
}
