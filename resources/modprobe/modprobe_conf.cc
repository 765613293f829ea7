#include "resources/modprobe/modprobe_conf.h"

#include <algorithm>
#include <optional>

namespace keel::modprobe {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The first words of a logical line, split on blanks with "\\\n" read as a
// blank; none for a comment or blank line. Views into the line, or into a
// joined copy when it has continuation lines (rare). Not copyable: the
// views may point into it.
class Words {
 public:
  explicit Words(std::string_view text) {
    text_ = text;
    if (text.find("\\\n") != std::string_view::npos) {
      joined_.reserve(text.size());
      for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
          joined_ += ' ';
          ++i;
          continue;
        }
        joined_ += text[i];
      }
      text_ = joined_;
    }
    size_t i = 0;
    while (i < text_.size() && IsBlank(text_[i])) ++i;
    if (i >= text_.size() || text_[i] == '#') return;
    while (n_ < 3 && i < text_.size()) {
      while (i < text_.size() && IsBlank(text_[i])) ++i;
      size_t s = i;
      while (i < text_.size() && !IsBlank(text_[i])) ++i;
      if (i > s) {
        start_[n_] = s;
        w_[n_++] = text_.substr(s, i - s);
      }
    }
  }
  Words(const Words&) = delete;
  Words& operator=(const Words&) = delete;
  /// The number of words, counting at most 3.
  size_t size() const { return n_; }
  std::string_view operator[](size_t i) const { return w_[i]; }
  /// The words from `from` (at most 2) on, joined by one space.
  std::string Rest(size_t from) const {
    std::string out;
    if (from >= n_) return out;
    size_t i = start_[from];
    while (i < text_.size()) {
      while (i < text_.size() && IsBlank(text_[i])) ++i;
      size_t s = i;
      while (i < text_.size() && !IsBlank(text_[i])) ++i;
      if (i > s) {
        if (!out.empty()) out += ' ';
        out.append(text_.substr(s, i - s));
      }
    }
    return out;
  }

 private:
  std::string joined_;
  std::string_view text_;
  std::string_view w_[3];
  size_t start_[3] = {0, 0, 0};
  size_t n_ = 0;
};

// ModuleKey(name) == key, without building the key (`key` has no '-').
bool IsModule(std::string_view name, std::string_view key) {
  if (name.size() != key.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if ((name[i] == '-' ? '_' : name[i]) != key[i]) return false;
  return true;
}

enum class Kind { kOther, kOptions, kAlias, kBlacklist, kInstall };

// The kind of a line as far as the module `key` is concerned (kOther when
// the line is not about it).
Kind KindFor(const Words& t, std::string_view key) {
  if (t.size() < 2) return Kind::kOther;
  if (t[0] == "options" && IsModule(t[1], key)) return Kind::kOptions;
  if (t[0] == "alias" && t.size() >= 3 && IsModule(t[2], key)) return Kind::kAlias;
  if (t[0] == "blacklist" && IsModule(t[1], key)) return Kind::kBlacklist;
  if (t[0] == "install" && IsModule(t[1], key)) return Kind::kInstall;
  return Kind::kOther;
}

// The module a line is about, and its kind (kOther: none).
Kind KindOf(const Words& t, std::string_view& module) {
  if (t.size() < 2) return Kind::kOther;
  if (t[0] == "alias") {
    if (t.size() < 3) return Kind::kOther;
    module = t[2];
    return Kind::kAlias;
  }
  module = t[1];
  if (t[0] == "options") return Kind::kOptions;
  if (t[0] == "blacklist") return Kind::kBlacklist;
  if (t[0] == "install") return Kind::kInstall;
  return Kind::kOther;
}

void Note(ModuleState& s, Kind kind, const Words& t) {
  switch (kind) {
    case Kind::kOptions:
      for (auto& o : ParseOptions(t.Rest(2))) s.options.push_back(std::move(o));
      break;
    case Kind::kAlias:
      s.aliases.emplace_back(t[1]);
      break;
    case Kind::kBlacklist:
      s.blacklist = true;
      break;
    case Kind::kInstall:
      if (!s.install) s.install = t.Rest(2);
      break;
    case Kind::kOther:
      return;
  }
  s.mentioned = true;
}

Options Sorted(Options o) {
  std::sort(o.begin(), o.end());
  return o;
}

}  // namespace

std::string ModuleKey(std::string_view module) {
  std::string out(module);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string RenderOptions(const Options& options) {
  std::string out;
  for (const auto& [k, v] : options) {
    if (!out.empty()) out += ' ';
    out += k;
    if (v.empty() && k.find('=') == std::string::npos) {
      out += "=\"\"";
    } else if (v.find_first_of(" \t") != std::string::npos) {
      out += "=\"" + v + "\"";
    } else {
      out += "=" + v;
    }
  }
  return out;
}

Options ParseOptions(std::string_view text) {
  Options out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsBlank(text[i])) ++i;
    if (i >= text.size()) break;
    std::string word;
    bool quoted = false;
    while (i < text.size() && (quoted || !IsBlank(text[i]))) {
      if (text[i] == '"') {
        quoted = !quoted;
      } else {
        word += text[i];
      }
      ++i;
    }
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(word, "");
    } else {
      out.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    }
  }
  return out;
}

bool NextLogicalLine(std::string_view text, size_t& pos, edit::LineSpan& line,
                     std::string_view& words) {
  edit::LineSpan phys;
  if (!edit::NextLine(text, pos, phys)) return false;
  const size_t begin = phys.begin;
  size_t end = phys.end();
  bool open_at_end = false;
  while (true) {
    std::string_view t = phys.text;
    while (!t.empty() && t.back() == '\r') t.remove_suffix(1);
    const bool terminated = end < text.size();
    if (t.empty() || t.back() != '\\' || !terminated) break;
    if (!edit::NextLine(text, pos, phys)) {
      open_at_end = true;
      break;
    }
    end = phys.end();
  }
  line = {begin, text.substr(begin, end - begin)};
  words = text.substr(begin, end - begin + (open_at_end ? 1 : 0));
  return true;
}

ModprobeConf ModprobeConf::Parse(std::string_view text) { return ModprobeConf(text); }

bool ModprobeConf::Blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

ModuleState ModprobeConf::Inspect(std::string_view module) const {
  ModuleState s;
  std::string key = ModuleKey(module);
  size_t pos = 0;
  edit::LineSpan line;
  std::string_view text;
  while (NextLogicalLine(text_, pos, line, text)) {
    Words t(text);
    Note(s, KindFor(t, key), t);
  }
  return s;
}

void ModprobeConf::InspectAll(std::map<std::string, ModuleState>& states) const {
  size_t pos = 0;
  edit::LineSpan line;
  std::string_view text;
  std::string key;
  while (NextLogicalLine(text_, pos, line, text)) {
    Words t(text);
    std::string_view module;
    Kind kind = KindOf(t, module);
    if (kind == Kind::kOther) continue;
    key.assign(module);
    std::replace(key.begin(), key.end(), '-', '_');
    auto it = states.find(key);
    if (it != states.end()) Note(it->second, kind, t);
  }
}

void ModprobeConf::Apply(const ModuleSpec& spec) {
  const std::string key = ModuleKey(spec.module);
  const std::string& m = spec.module;
  auto make_line = [&](std::string_view what, std::string_view rest) {
    std::string l(what);
    l += ' ';
    l += m;
    l += ' ';
    l += rest;
    return l;
  };
  // "Only one options line" is about the whole file.
  size_t options_lines = 0;
  if (!spec.absent && spec.options && !spec.options->empty()) {
    size_t pos = 0;
    edit::LineSpan line;
    std::string_view text;
    while (NextLogicalLine(text_, pos, line, text)) {
      Words t(text);
      if (KindFor(t, key) == Kind::kOptions) ++options_lines;
    }
  }
  bool options_done = false, blacklist_done = false, install_done = false;
  std::vector<std::string> aliases_done;
  auto want_alias = [&](std::string_view name) {
    return spec.aliases &&
           std::find(spec.aliases->begin(), spec.aliases->end(), name) != spec.aliases->end();
  };
  // New lines go right after the module's last kept line when a kept line
  // follows it (before `after_last`, the first line after it), else at the
  // end.
  bool module_kept = false, kept_after = false, after_set = false;
  edit::LineSpan after_last;
  // The last line as it ends the file: kept as is and still open (a final
  // continuation line), the text renders one more '\n' when edited.
  bool last_open_kept = false;
  size_t pos = 0;
  edit::LineSpan line;
  std::string_view text;
  while (NextLogicalLine(text_, pos, line, text)) {
    Words t(text);
    const bool open = text.size() != line.text.size();
    bool kept = true, changed = false;
    auto keep = [&](std::optional<std::string> replacement) {
      if (replacement) {
        edits_.Replace(line, std::move(*replacement));
        changed = true;
      }
      module_kept = true;
      kept_after = after_set = false;
    };
    auto drop = [&] {
      edits_.Erase(line);
      kept = false;
    };
    if (module_kept && !after_set) {
      after_last = line;
      after_set = true;
    }
    Kind kind = KindFor(t, key);
    // "alias NAME other": a name this module owns, pointed elsewhere.
    bool foreign_alias = kind == Kind::kOther && t.size() >= 3 && t[0] == "alias" && !spec.absent &&
                         want_alias(t[1]);
    if (kind == Kind::kOther && !foreign_alias) {
      kept_after = kept_after || module_kept;
    } else if (spec.absent) {
      drop();
    } else if (foreign_alias || kind == Kind::kAlias) {
      if (!spec.aliases) {
        keep(std::nullopt);
      } else {
        std::string name(t[1]);
        bool dup = std::find(aliases_done.begin(), aliases_done.end(), name) != aliases_done.end();
        if (!want_alias(name) || dup) {
          drop();
        } else {
          aliases_done.push_back(name);
          keep(foreign_alias ? std::optional<std::string>("alias " + name + " " + m)
                             : std::nullopt);
        }
      }
    } else if (kind == Kind::kOptions) {
      if (!spec.options) {
        keep(std::nullopt);
      } else if (options_done || spec.options->empty()) {
        drop();
      } else {
        options_done = true;
        // One line holding the same pairs (any order) stays as written.
        bool same = Sorted(ParseOptions(t.Rest(2))) == Sorted(*spec.options);
        keep(same && options_lines == 1
                 ? std::nullopt
                 : std::optional<std::string>(make_line("options", RenderOptions(*spec.options))));
      }
    } else if (kind == Kind::kBlacklist) {
      if (!spec.blacklist) {
        keep(std::nullopt);
      } else if (blacklist_done || !*spec.blacklist) {
        drop();
      } else {
        blacklist_done = true;
        keep(std::nullopt);
      }
    } else if (kind == Kind::kInstall) {
      if (!spec.install) {
        keep(std::nullopt);
      } else if (install_done || spec.install->empty()) {
        drop();
      } else {
        install_done = true;
        Words want(*spec.install);
        std::string want_rest = want.Rest(0);
        bool same = t.Rest(2) == want_rest;
        keep(same ? std::nullopt : std::optional<std::string>(make_line("install", *spec.install)));
      }
    }
    last_open_kept = open && kept && !changed;
  }
  std::vector<std::string> added;
  if (!spec.absent) {
    if (spec.options && !spec.options->empty() && !options_done)
      added.push_back(make_line("options", RenderOptions(*spec.options)));
    if (spec.aliases)
      for (const auto& a : *spec.aliases)
        if (std::find(aliases_done.begin(), aliases_done.end(), a) == aliases_done.end()) {
          added.push_back("alias " + a + " " + m);
          aliases_done.push_back(a);
        }
    if (spec.blacklist && *spec.blacklist && !blacklist_done) added.push_back("blacklist " + m);
    if (spec.install && !spec.install->empty() && !install_done)
      added.push_back(make_line("install", *spec.install));
  }
  const bool inside = module_kept && kept_after;
  if (inside)
    for (auto& a : added) edits_.InsertBefore(after_last, std::move(a));
  // The old line model gave a file ending in a continuation line one more
  // '\n' when it rewrote it (that ends the continuation before appended
  // lines); a file with nothing to change keeps its bytes.
  if (last_open_kept && (edits_.edited() || !added.empty())) edits_.Append("");
  if (!inside)
    for (auto& a : added) edits_.Append(std::move(a));
}

ModprobeIndex ModprobeIndex::Build(std::string_view text) {
  ModprobeIndex x;
  x.text_ = text;
  size_t pos = 0;
  edit::LineSpan line;
  std::string_view words;
  while (NextLogicalLine(text, pos, line, words)) {
    Words t(words);
    std::string_view module;
    if (KindOf(t, module) == Kind::kOther) continue;
    x.by_module_[ModuleKey(module)].push_back(line);
    if (t[0] == "alias") x.by_alias_[std::string(t[1])].push_back(line);  // t may be a copy
  }
  return x;
}

std::string ModprobeIndex::LinesOf(std::string_view key,
                                   const std::vector<std::string>* aliases) const {
  std::vector<edit::LineSpan> lines;
  if (auto it = by_module_.find(std::string(key)); it != by_module_.end()) lines = it->second;
  if (aliases) {
    for (const auto& a : *aliases)
      if (auto it = by_alias_.find(a); it != by_alias_.end())
        lines.insert(lines.end(), it->second.begin(), it->second.end());
    std::sort(lines.begin(), lines.end(),
              [](const edit::LineSpan& a, const edit::LineSpan& b) { return a.begin < b.begin; });
    lines.erase(std::unique(lines.begin(), lines.end(),
                            [](const edit::LineSpan& a, const edit::LineSpan& b) {
                              return a.begin == b.begin;
                            }),
                lines.end());
  }
  // Each line as in the file: with its '\n', but for a last line that has
  // none (a final "\\" then reads as it does there).
  std::string out;
  for (const auto& l : lines) {
    out += l.text;
    if (l.end() < text_.size()) out += '\n';
  }
  return out;
}

ModuleState ModprobeIndex::Inspect(std::string_view module) const {
  const std::string lines = LinesOf(ModuleKey(module), nullptr);
  return ModprobeConf::Parse(lines).Inspect(module);
}

bool ModprobeIndex::InPlace(const ModuleSpec& spec) const {
  const std::string lines =
      LinesOf(ModuleKey(spec.module), spec.aliases ? &*spec.aliases : nullptr);
  ModprobeConf f = ModprobeConf::Parse(lines);
  f.Apply(spec);
  return !f.edited();
}

}  // namespace keel::modprobe
