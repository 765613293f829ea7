#include "resources/firewall/firewall_session.h"

#include <algorithm>
#include <cctype>

#include "engine/text_diff.h"
#include "engine/text_lines.h"

namespace keel::fw {
namespace {

bool IsBuiltin(const std::string& table, const std::string& chain) {
  auto b = BuiltinChains(table);
  return std::find(b.begin(), b.end(), chain) != b.end();
}

// Rebuilds t.rules with `chain`'s rules replaced by `args` (chains in order).
void ReplaceRules(Table& t, const std::string& chain, const std::vector<std::string>& args) {
  std::vector<Rule> out;
  for (const auto& c : t.chains) {
    if (c.name != chain) {
      for (const auto& r : t.rules)
        if (r.chain == c.name) out.push_back(r);
      continue;
    }
    for (const auto& a : args) {
      Rule r;
      r.chain = chain;
      r.args = a;
      r.words = SplitWords(a, nullptr).value_or(std::vector<std::string>{});
      out.push_back(std::move(r));
    }
  }
  t.rules = std::move(out);
}

std::vector<std::string> ArgsOf(const Table* t, const std::string& chain) {
  std::vector<std::string> out;
  if (!t) return out;
  for (const Rule* r : t->RulesOf(chain)) out.push_back(r->args);
  return out;
}

// The iptables-restore --noflush input that turns `live` into `want`,
// touching only the chains that differ; "" when none does.
std::string RestoreInput(const Table* live, const Table& want) {
  std::string decl, flush, rules, del;
  for (const Chain& ch : want.chains) {
    const Chain* old = live ? live->FindChain(ch.name) : nullptr;
    auto now = ArgsOf(&want, ch.name);
    bool same = old && ArgsOf(live, ch.name) == now;
    if (!old) {
      decl += ":" + ch.name + " " + ch.policy + " [0:0]\n";
    } else if (ch.builtin()) {
      if (old->policy != ch.policy) decl += ":" + ch.name + " " + ch.policy + " [0:0]\n";
      if (!same) flush += "-F " + ch.name + "\n";
    } else if (!same) {
      decl += ":" + ch.name + " - [0:0]\n";  // under --noflush: flushes the chain
    }
    if (!same)
      for (const auto& a : now) rules += "-A " + ch.name + (a.empty() ? "" : " " + a) + "\n";
  }
  if (live)
    for (const Chain& ch : live->chains)
      if (!want.FindChain(ch.name)) {
        flush += "-F " + ch.name + "\n";
        del += "-X " + ch.name + "\n";
      }
  if (decl.empty() && flush.empty() && rules.empty() && del.empty()) return "";
  return "*" + want.name + "\n" + decl + flush + rules + del + "COMMIT\n";
}

// iptables' message, with the input line it names quoted.
std::string RefusalMessage(const std::string& err, const std::string& input) {
  std::string msg;
  for (std::string_view l : SplitLines(err)) {
    if (l.empty() || l.starts_with("Try `")) continue;
    msg += (msg.empty() ? "" : "; ") + std::string(l);
  }
  size_t at = err.find("line");
  while (at != std::string::npos) {
    size_t p = at + 4;
    while (p < err.size() && (err[p] == ' ' || err[p] == ':')) ++p;
    size_t q = p;
    while (q < err.size() && std::isdigit(static_cast<unsigned char>(err[q]))) ++q;
    if (q > p) {
      size_t n = std::stoul(err.substr(p, q - p));
      auto lines = SplitLines(input);
      if (n >= 1 && n <= lines.size())
        return msg + " [input line " + std::to_string(n) + ": " + std::string(lines[n - 1]) + "]";
    }
    at = err.find("line", at + 4);
  }
  return msg;
}

}  // namespace

std::string PersistedFile(const std::string& os_family, bool v6) {
  if (os_family == "RedHat") return v6 ? "/etc/sysconfig/ip6tables" : "/etc/sysconfig/iptables";
  return v6 ? "/etc/iptables/rules.v6" : "/etc/iptables/rules.v4";
}

void Session::AddRule(RuleDecl d) {
  for (const auto& r : rules_)
    if (r.id == d.id && r.v6 == d.v6) return;
  rules_.push_back(std::move(d));
}

void Session::AddChain(ChainDecl d) {
  for (const auto& c : chains_)
    if (c.id == d.id && c.v6 == d.v6) return;
  chains_.push_back(std::move(d));
}

Result<void> Session::ReadLive(Host& host, Family& f) {
  Command c{.argv = {f.save}, .timeout_s = 60, .query = true};
  auto r = RunChecked(host, c, "reading the " + std::string(f.v6 ? "IPv6" : "IPv4") + " rules");
  if (!r.ok()) return r.error();
  auto rs = Parse(r->out);
  if (!rs.ok())
    return MakeError(ErrorCode::kInvalid,
                     f.save + " printed what keel cannot read: " + rs.error().message);
  f.live = std::move(*rs);
  return {};
}

Family& Session::Load(Host& host, RunContext& ctx, bool v6) {
  Family& f = family(v6);
  if (f.loaded) return f;
  f.loaded = true;
  f.v6 = v6;
  const Value* osf = ctx.facts.Get("os.family");
  f.file = PersistedFile(osf && osf->is_string() ? osf->as_string() : "", v6);
  auto content = host.ReadFile(*HostPath::Parse(f.file));
  if (!content.ok()) {
    f.error = "reading " + f.file + ": " + content.error().message;
    return f;
  }
  f.file_content = *content;
  Ruleset from_file;
  if (f.file_content) {
    auto p = Parse(*f.file_content);
    if (!p.ok()) {
      f.error = f.file + ": " + p.error().message +
                " (not iptables-save format; keel will not replace it: fix or remove it)";
      return f;
    }
    from_file = std::move(*p);
  }
  if (!host.live()) {
    f.live = std::move(from_file);
    return f;
  }
  std::string base = v6 ? "ip6tables" : "iptables";
  f.save = base + "-save";
  f.restore = base + "-restore";
  f.cmd = base;
  if (!HasProgram(host, f.save)) {
    f.error = f.save + " is not installed: keel reads the live rules with it";
    return f;
  }
  if (auto r = ReadLive(host, f); !r.ok()) {
    f.error = r.error().message;
    return f;
  }
  // The default backend shows nothing while the legacy one holds rules:
  // this host's firewall lives in the legacy tables, manage it there.
  if (f.live.tables.empty() && HasProgram(host, base + "-legacy-save")) {
    Family probe = f;
    probe.save = base + "-legacy-save";
    if (ReadLive(host, probe).ok() && !probe.live.tables.empty()) {
      f.legacy = true;
      f.save = probe.save;
      f.restore = base + "-legacy-restore";
      f.cmd = base + "-legacy";
      f.live = std::move(probe.live);
    }
  }
  return f;
}

bool Session::Same(Host& host, Family& f, const std::string& table, const std::string& chain,
                   const std::string& want_args, const Rule& live) {
  if (!host.live() || f.cmd.empty()) return false;
  auto key = std::make_tuple(table, chain, want_args + '\x01' + live.args);
  if (auto it = f.same_cache.find(key); it != f.same_cache.end()) return it->second;
  auto words = SplitWords(want_args, nullptr);
  bool same = false;
  if (words) {
    Command c{.argv = {f.cmd, "-t", table, "-C", chain}, .timeout_s = 30, .query = true};
    c.argv.insert(c.argv.end(), words->begin(), words->end());
    auto r = host.Run(c);
    same = r.ok() && !r->not_run && r->exit_code == 0;
  }
  f.same_cache[key] = same;
  return same;
}

Computed Session::Compute(Host& host, Family& f, bool all_active) {
  Computed c;
  c.rs = f.live;
  auto active = [&](const std::string& id) { return all_active || active_.count(id) > 0; };
  std::map<ChainKey, const ChainDecl*> chain_decl;
  std::map<ChainKey, std::vector<size_t>> rules_by;
  std::vector<ChainKey> keys;
  auto note = [&](const ChainKey& k) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  };
  for (const auto& d : chains_)
    if (d.v6 == f.v6) {
      chain_decl[{d.table, d.chain}] = &d;
      note({d.table, d.chain});
    }
  for (size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i].v6 == f.v6) {
      rules_by[{rules_[i].table, rules_[i].chain}].push_back(i);
      note({rules_[i].table, rules_[i].chain});
    }
  for (const auto& key : keys) {
    const auto& [table, chain] = key;
    const ChainDecl* cd = chain_decl.count(key) ? chain_decl[key] : nullptr;
    bool cd_active = cd && active(cd->id);
    bool removing = cd_active && !cd->present;
    bool any_rule = false;
    for (size_t i : rules_by[key])
      any_rule = any_rule || (rules_[i].present && active(rules_[i].id));
    bool want_exists = !removing && ((cd_active && cd->present) || any_rule);
    bool builtin = IsBuiltin(table, chain);
    Table* t = c.rs.Find(table);
    if (!t) {
      if (!want_exists) continue;
      c.rs.tables.push_back(EmptyTable(table));
      t = &c.rs.tables.back();
    }
    Chain* ch = t->FindChain(chain);
    if (removing && !builtin) {
      if (ch) {
        std::erase_if(t->chains, [&](const Chain& x) { return x.name == chain; });
        std::erase_if(t->rules, [&](const Rule& x) { return x.chain == chain; });
      }
      continue;
    }
    if (!ch) {
      if (!want_exists) continue;
      t->chains.push_back({chain, builtin ? "ACCEPT" : "-", "[0:0]"});
      ch = &t->chains.back();
    }
    if (cd_active && builtin && !cd->policy.empty()) ch->policy = cd->policy;
    std::vector<Want> wants;
    for (size_t i : rules_by[key]) {
      const RuleDecl& d = rules_[i];
      wants.push_back({d.comment, d.args, d.order, d.title, d.present, active(d.id)});
    }
    bool purge = cd_active && cd->purge;
    ChainPlan plan = PlanChain(t->RulesOf(chain), wants, purge, [&](size_t w, const Rule& r) {
      return Same(host, f, table, chain, wants[w].args, r);
    });
    if (plan.changed()) ReplaceRules(*t, chain, plan.after);
    c.plans[key] = std::move(plan);
    c.decls[key] = rules_by[key];
  }
  return c;
}

Result<const Computed*> Session::Plan(Host& host, RunContext& ctx, bool v6) {
  Family& f = Load(host, ctx, v6);
  if (f.error) return MakeError(ErrorCode::kInvalid, *f.error);
  if (!f.plan) f.plan = Compute(host, f, true);
  return &*f.plan;
}

std::optional<std::pair<std::string, std::string>> Session::FileChange(const Family& f,
                                                                       const Ruleset& rs) const {
  std::string want = Serialize(rs, false);
  if (!f.file_content && want.empty()) return std::nullopt;
  if (f.file_content) {
    auto p = Parse(*f.file_content);
    if (p.ok() && Serialize(*p, false) == want) return std::nullopt;
  }
  std::string content = "# Written by keel: the " + std::string(f.v6 ? "ip6tables" : "iptables") +
                        " rules (iptables-save format)\n" + want;
  return std::make_pair(content, UnifiedDiff(f.file_content.value_or(""), content, f.file, f.file));
}

void Session::Applied(const std::string& id, bool v6, const std::set<std::string>& tables) {
  active_.insert(id);
  Family& f = family(v6);
  f.dirty.insert(tables.begin(), tables.end());
  if (f.file_owner == id) f.file_pending = true;
}

Result<void> Session::FlushFamily(Host& host, Family& f) {
  Computed c = Compute(host, f, false);
  if (host.live()) {
    for (const auto& table : f.dirty) {
      const Table* want = c.rs.Find(table);
      if (!want) continue;
      std::string input = RestoreInput(f.live.Find(table), *want);
      if (input.empty()) continue;
      for (bool test : {true, false}) {
        Command cmd{.argv = {f.restore, "--noflush"}, .timeout_s = 120, .stdin_data = input};
        if (test) cmd.argv.push_back("--test");
        auto r = host.Run(cmd);
        std::string why;
        if (!r.ok())
          why = r.error().message;
        else if (r->exit_code != 0)
          why = RefusalMessage(r->err + r->out, input);
        if (!why.empty()) {
          f.table_errors[table] = f.restore + " refused the " + table + " table (" +
                                  (test ? "--test" : "commit") +
                                  "), its live rules are unchanged: " + why;
          break;
        }
      }
    }
    if (auto r = ReadLive(host, f); !r.ok()) {
      f.file_error = "re-reading the rules after iptables-restore: " + r.error().message;
      return {};
    }
  } else {
    f.live = c.rs;
  }
  if (auto change = FileChange(f, f.live)) {
    auto path = *HostPath::Parse(f.file);
    auto st = host.Stat(path);
    FileAttrs attrs;
    if (st.ok() && !st->exists()) attrs.mode = 0600;
    Result<void> w = MakeParents(host, path).ok() ? host.WriteFileAtomic(path, change->first, attrs)
                                                  : Result<void>(MakeParents(host, path).error());
    if (!w.ok())
      f.file_error = "writing " + f.file + ": " + w.error().message;
    else
      f.file_content = change->first;
  }
  return {};
}

Result<void> Session::Flush(Host& host, RunContext& ctx, const std::vector<std::string>& ids,
                            std::vector<std::string>* failed_ids) {
  (void)ctx;
  for (Family& f : fam_) {
    if (!f.loaded || f.error || (f.dirty.empty() && !f.file_pending)) continue;
    f.table_errors.clear();
    f.file_error.reset();
    KEEL_TRY(FlushFamily(host, f));
    f.dirty.clear();
    f.file_pending = false;
    f.plan.reset();
    f.file_owner.clear();
    f.same_cache.clear();
  }
  std::string msg;
  auto add = [&](const std::string& m) {
    if (msg.find(m) == std::string::npos) msg += (msg.empty() ? "" : "; ") + m;
  };
  auto check = [&](const std::string& id, bool v6, const std::string& table) {
    Family& f = family(v6);
    bool hit = false;
    if (auto it = f.table_errors.find(table); it != f.table_errors.end())
      add(it->second), hit = true;
    if (f.file_error) add(*f.file_error), hit = true;
    if (hit && failed_ids &&
        std::find(failed_ids->begin(), failed_ids->end(), id) == failed_ids->end())
      failed_ids->push_back(id);
  };
  if (failed_ids) failed_ids->clear();
  for (const auto& id : ids) {
    for (const auto& d : rules_)
      if (d.id == id) check(id, d.v6, d.table);
    for (const auto& d : chains_)
      if (d.id == id) check(id, d.v6, d.table);
  }
  if (msg.empty()) return {};
  return MakeError(ErrorCode::kCommand, msg);
}

}  // namespace keel::fw
