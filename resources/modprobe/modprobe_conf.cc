#include "resources/modprobe/modprobe_conf.h"

#include <algorithm>

#include "engine/text_lines.h"

namespace keel::modprobe {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::vector<std::string> Tokens(std::string_view text) {
  std::string joined;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
      joined += ' ';
      ++i;
      continue;
    }
    joined += text[i];
  }
  std::vector<std::string> out;
  size_t i = 0;
  while (i < joined.size() && IsBlank(joined[i])) ++i;
  if (i >= joined.size() || joined[i] == '#') return out;
  while (i < joined.size()) {
    while (i < joined.size() && IsBlank(joined[i])) ++i;
    size_t s = i;
    while (i < joined.size() && !IsBlank(joined[i])) ++i;
    if (i > s) out.push_back(joined.substr(s, i - s));
  }
  return out;
}

ConfLine Make(std::string text) {
  ConfLine l;
  l.tokens = Tokens(text);
  l.raw = std::move(text);
  return l;
}

std::string Rest(const std::vector<std::string>& t, size_t from) {
  std::string out;
  for (size_t i = from; i < t.size(); ++i) out += (out.empty() ? "" : " ") + t[i];
  return out;
}

enum class Kind { kOther, kOptions, kAlias, kBlacklist, kInstall };

// The kind of `l` as far as `module` is concerned (kOther when the line
// is not about it). `alias_names`: names whose alias lines this module owns.
Kind KindFor(const ConfLine& l, const std::string& key) {
  const auto& t = l.tokens;
  if (t.size() < 2) return Kind::kOther;
  if (t[0] == "options" && ModuleKey(t[1]) == key) return Kind::kOptions;
  if (t[0] == "alias" && t.size() >= 3 && ModuleKey(t[2]) == key) return Kind::kAlias;
  if (t[0] == "blacklist" && ModuleKey(t[1]) == key) return Kind::kBlacklist;
  if (t[0] == "install" && ModuleKey(t[1]) == key) return Kind::kInstall;
  return Kind::kOther;
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

ModprobeConf ModprobeConf::Parse(std::string_view text) {
  ModprobeConf f;
  std::string pending;
  bool continuing = false;
  for (std::string_view line : SplitLinesKeepEnds(text)) {
    bool terminated = line.back() == '\n';
    if (terminated) line.remove_suffix(1);
    if (!terminated) f.final_newline_ = false;
    pending += line;
    std::string_view trimmed = line;
    while (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
    continuing = !trimmed.empty() && trimmed.back() == '\\' && terminated;
    if (continuing) {
      pending += '\n';
      continue;
    }
    f.lines_.push_back(Make(std::move(pending)));
    pending.clear();
  }
  if (!pending.empty()) f.lines_.push_back(Make(std::move(pending)));
  return f;
}

std::string ModprobeConf::Render() const {
  std::string out;
  for (size_t i = 0; i < lines_.size(); ++i) {
    out += lines_[i].raw;
    if (i + 1 < lines_.size() || final_newline_) out += '\n';
  }
  return out;
}

bool ModprobeConf::Empty() const {
  return std::all_of(lines_.begin(), lines_.end(), [](const ConfLine& l) {
    return l.raw.find_first_not_of(" \t\r\n") == std::string::npos;
  });
}

ModuleState ModprobeConf::Inspect(std::string_view module) const {
  ModuleState s;
  std::string key = ModuleKey(module);
  for (const auto& l : lines_) {
    switch (KindFor(l, key)) {
      case Kind::kOptions: {
        std::string rest = Rest(l.tokens, 2);
        for (auto& o : ParseOptions(rest)) s.options.push_back(std::move(o));
        break;
      }
      case Kind::kAlias:
        s.aliases.push_back(l.tokens[1]);
        break;
      case Kind::kBlacklist:
        s.blacklist = true;
        break;
      case Kind::kInstall:
        if (!s.install) s.install = Rest(l.tokens, 2);
        break;
      case Kind::kOther:
        continue;
    }
    s.mentioned = true;
  }
  return s;
}

void ModprobeConf::Apply(const ModuleSpec& spec) {
  std::string key = ModuleKey(spec.module);
  const std::string& m = spec.module;
  std::vector<ConfLine> out;
  int last = -1;  // index in `out` of the module's last kept line
  bool options_done = false, blacklist_done = false, install_done = false;
  std::vector<std::string> aliases_done;
  auto want_alias = [&](const std::string& name) {
    return spec.aliases &&
           std::find(spec.aliases->begin(), spec.aliases->end(), name) != spec.aliases->end();
  };
  auto keep = [&](ConfLine l) {
    out.push_back(std::move(l));
    last = static_cast<int>(out.size()) - 1;
  };
  for (auto& l : lines_) {
    Kind kind = KindFor(l, key);
    // "alias NAME other": a name this module owns, pointed elsewhere.
    bool foreign_alias = kind == Kind::kOther && l.tokens.size() >= 3 && l.tokens[0] == "alias" &&
                         !spec.absent && want_alias(l.tokens[1]);
    if (kind == Kind::kOther && !foreign_alias) {
      out.push_back(std::move(l));
      continue;
    }
    if (spec.absent) continue;
    if (foreign_alias || kind == Kind::kAlias) {
      if (!spec.aliases) {
        keep(std::move(l));
        continue;
      }
      const std::string& name = l.tokens[1];
      bool dup = std::find(aliases_done.begin(), aliases_done.end(), name) != aliases_done.end();
      if (!want_alias(name) || dup) continue;
      aliases_done.push_back(name);
      keep(foreign_alias ? Make("alias " + name + " " + m) : std::move(l));
      continue;
    }
    if (kind == Kind::kOptions) {
      if (!spec.options) {
        keep(std::move(l));
        continue;
      }
      if (options_done || spec.options->empty()) continue;
      options_done = true;
      // One line holding the same pairs (any order) stays as written.
      bool same = Sorted(ParseOptions(Rest(l.tokens, 2))) == Sorted(*spec.options);
      bool only = std::count_if(lines_.begin(), lines_.end(), [&](const ConfLine& o) {
                    return KindFor(o, key) == Kind::kOptions;
                  }) == 1;
      keep(same && only ? std::move(l) : Make("options " + m + " " + RenderOptions(*spec.options)));
      continue;
    }
    if (kind == Kind::kBlacklist) {
      if (!spec.blacklist) {
        keep(std::move(l));
        continue;
      }
      if (blacklist_done || !*spec.blacklist) continue;
      blacklist_done = true;
      keep(std::move(l));
      continue;
    }
    if (kind == Kind::kInstall) {
      if (!spec.install) {
        keep(std::move(l));
        continue;
      }
      if (install_done || spec.install->empty()) continue;
      install_done = true;
      bool same = Rest(l.tokens, 2) == Rest(Tokens(*spec.install), 0);
      keep(same ? std::move(l) : Make("install " + m + " " + *spec.install));
      continue;
    }
  }
  std::vector<ConfLine> added;
  if (!spec.absent) {
    if (spec.options && !spec.options->empty() && !options_done)
      added.push_back(Make("options " + m + " " + RenderOptions(*spec.options)));
    if (spec.aliases)
      for (const auto& a : *spec.aliases)
        if (std::find(aliases_done.begin(), aliases_done.end(), a) == aliases_done.end()) {
          added.push_back(Make("alias " + a + " " + m));
          aliases_done.push_back(a);
        }
    if (spec.blacklist && *spec.blacklist && !blacklist_done)
      added.push_back(Make("blacklist " + m));
    if (spec.install && !spec.install->empty() && !install_done)
      added.push_back(Make("install " + m + " " + *spec.install));
  }
  if (!added.empty()) {
    size_t at = last >= 0 ? static_cast<size_t>(last) + 1 : out.size();
    // A file whose last line lacks '\n' gets it when a line follows.
    if (at == out.size()) final_newline_ = true;
    out.insert(out.begin() + static_cast<long>(at), added.begin(), added.end());
  }
  lines_ = std::move(out);
}

}  // namespace keel::modprobe
