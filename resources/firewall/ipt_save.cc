#include "resources/firewall/ipt_save.h"

#include <cctype>

#include "engine/text_lines.h"

namespace keel::fw {
namespace {

bool IsChainName(std::string_view n) {
  if (n.empty() || n.size() > 28 || n.front() == '-') return false;
  for (char c : n)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '\0') return false;
  return true;
}

bool IsCounters(std::string_view c) {
  if (c.size() < 5 || c.front() != '[' || c.back() != ']') return false;
  size_t colon = c.find(':');
  if (colon == std::string_view::npos || colon == 1 || colon + 2 == c.size()) return false;
  for (size_t i = 1; i + 1 < c.size(); ++i)
    if (i != colon && !std::isdigit(static_cast<unsigned char>(c[i]))) return false;
  return true;
}

Error LineError(size_t n, const std::string& msg) {
  return MakeError(ErrorCode::kInvalid, "line " + std::to_string(n) + ": " + msg);
}

}  // namespace

std::optional<std::vector<std::string>> SplitWords(std::string_view args, std::string* error) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < args.size()) {
    if (args[i] == ' ' || args[i] == '\t') {
      ++i;
      continue;
    }
    std::string w;
    bool quoted = false;
    while (i < args.size() && (quoted || (args[i] != ' ' && args[i] != '\t'))) {
      char c = args[i];
      if (c == '"') {
        quoted = !quoted;
        ++i;
      } else if (c == '\\' && quoted && i + 1 < args.size()) {
        w += args[i + 1];
        i += 2;
      } else {
        w += c;
        ++i;
      }
    }
    if (quoted) {
      if (error) *error = "unterminated quote";
      return std::nullopt;
    }
    out.push_back(std::move(w));
  }
  return out;
}

std::string Quote(std::string_view word) {
  bool bare = !word.empty();
  for (char c : word)
    bare =
        bare && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  if (bare) return std::string(word);
  std::string q = "\"";
  for (char c : word) {
    if (c == '"' || c == '\\' || c == '\'') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string Rule::Comment() const {
  for (size_t i = 0; i + 3 < words.size(); ++i)
    if (words[i] == "-m" && words[i + 1] == "comment" && words[i + 2] == "--comment")
      return words[i + 3];
  return "";
}

RuleParts Rule::Parts() const {
  RuleParts p;
  size_t i = 0;
  while (i < words.size() && words[i] != "-m" && words[i] != "-j" && words[i] != "-g")
    p.base.push_back(words[i++]);
  while (i < words.size()) {
    if (words[i] == "-j" || words[i] == "-g") {
      p.target.assign(words.begin() + static_cast<long>(i), words.end());
      break;
    }
    // words[i] is "-m"
    Match m;
    m.name = i + 1 < words.size() ? words[i + 1] : "";
    i += 2;
    while (i < words.size() && words[i] != "-m" && words[i] != "-j" && words[i] != "-g")
      m.words.push_back(words[i++]);
    p.matches.push_back(std::move(m));
  }
  return p;
}

std::string Rule::Line() const { return "-A " + chain + (args.empty() ? "" : " " + args); }

Chain* Table::FindChain(std::string_view n) {
  for (auto& c : chains)
    if (c.name == n) return &c;
  return nullptr;
}
const Chain* Table::FindChain(std::string_view n) const {
  for (const auto& c : chains)
    if (c.name == n) return &c;
  return nullptr;
}
std::vector<const Rule*> Table::RulesOf(std::string_view chain) const {
  std::vector<const Rule*> out;
  for (const auto& r : rules)
    if (r.chain == chain) out.push_back(&r);
  return out;
}

Table* Ruleset::Find(std::string_view n) {
  for (auto& t : tables)
    if (t.name == n) return &t;
  return nullptr;
}
const Table* Ruleset::Find(std::string_view n) const {
  for (const auto& t : tables)
    if (t.name == n) return &t;
  return nullptr;
}

std::vector<std::string> BuiltinChains(std::string_view table) {
  if (table == "filter" || table == "security") return {"INPUT", "FORWARD", "OUTPUT"};
  if (table == "nat") return {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"};
  if (table == "mangle") return {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  if (table == "raw") return {"PREROUTING", "OUTPUT"};
  return {};
}

Table EmptyTable(std::string_view name) {
  Table t;
  t.name = std::string(name);
  for (const auto& c : BuiltinChains(name)) t.chains.push_back({c, "ACCEPT", "[0:0]"});
  return t;
}

Result<Ruleset> Parse(std::string_view text) {
  if (text.find('\0') != std::string_view::npos)
    return MakeError(ErrorCode::kInvalid, "binary content (a NUL byte): not iptables-save output");
  Ruleset rs;
  Table* cur = nullptr;
  size_t n = 0;
  for (std::string_view raw : SplitLines(text)) {
    ++n;
    std::string_view line = raw;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '*') {
      if (cur)
        return LineError(
            n, "table " + cur->name + " has no COMMIT before *" + std::string(line.substr(1)));
      std::string name(line.substr(1));
      if (name.empty() || name.find(' ') != std::string::npos)
        return LineError(n, "bad table line '" + std::string(line) + "'");
      if (rs.Find(name)) return LineError(n, "table " + name + " appears twice");
      rs.tables.push_back({name, {}, {}});
      cur = &rs.tables.back();
      continue;
    }
    if (!cur)
      return LineError(n, "'" + std::string(line.substr(0, 60)) +
                              "' before any *table line: not iptables-save output");
    if (line == "COMMIT") {
      cur = nullptr;
      continue;
    }
    if (line.front() == ':') {
      auto w = SplitWords(line.substr(1), nullptr);
      if (!w || w->size() < 2 || w->size() > 3 || !IsChainName((*w)[0]) ||
          (w->size() == 3 && !IsCounters((*w)[2])))
        return LineError(n, "bad chain line '" + std::string(line) + "'");
      if (cur->FindChain((*w)[0]))
        return LineError(n, "chain " + (*w)[0] + " declared twice in table " + cur->name);
      cur->chains.push_back({(*w)[0], (*w)[1], w->size() == 3 ? (*w)[2] : ""});
      continue;
    }
    Rule r;
    std::string_view rest = line;
    if (rest.front() == '[') {
      size_t end = rest.find(']');
      if (end == std::string_view::npos || !IsCounters(rest.substr(0, end + 1)))
        return LineError(n, "bad counters in '" + std::string(line.substr(0, 60)) + "'");
      r.counters = std::string(rest.substr(0, end + 1));
      rest.remove_prefix(end + 1);
      if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    }
    if (!rest.starts_with("-A "))
      return LineError(n, "unexpected '" + std::string(line.substr(0, 60)) +
                              "' (iptables-save prints only *table, :chain, -A rules, COMMIT)");
    rest.remove_prefix(3);
    size_t sp = rest.find(' ');
    r.chain = std::string(rest.substr(0, sp));
    r.args = sp == std::string_view::npos ? "" : std::string(rest.substr(sp + 1));
    if (!cur->FindChain(r.chain)) {
      if (!IsChainName(r.chain)) return LineError(n, "bad chain name '" + r.chain + "'");
      bool builtin = false;
      for (const auto& b : BuiltinChains(cur->name)) builtin = builtin || b == r.chain;
      if (!builtin)
        return LineError(
            n, "rule for chain " + r.chain + ", which table " + cur->name + " does not declare");
      cur->chains.push_back({r.chain, "ACCEPT", "[0:0]"});
    }
    std::string err;
    auto words = SplitWords(r.args, &err);
    if (!words) return LineError(n, err + " in '" + std::string(line.substr(0, 60)) + "'");
    r.words = std::move(*words);
    cur->rules.push_back(std::move(r));
  }
  if (cur)
    return MakeError(ErrorCode::kInvalid,
                     "table " + cur->name + " ends without COMMIT (truncated?)");
  return rs;
}

std::string Serialize(const Ruleset& rs, bool counters) {
  std::string out;
  for (const auto& t : rs.tables) {
    out += "*" + t.name + "\n";
    for (const auto& c : t.chains) {
      out += ":" + c.name + " " + c.policy;
      std::string cnt = counters ? c.counters : "[0:0]";
      if (!cnt.empty()) out += " " + cnt;
      out += "\n";
    }
    for (const auto& r : t.rules) {
      if (counters && !r.counters.empty()) out += r.counters + " ";
      out += r.Line() + "\n";
    }
    out += "COMMIT\n";
  }
  return out;
}

}  // namespace keel::fw
