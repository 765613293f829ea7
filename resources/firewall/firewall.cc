// iptables_rule and iptables_chain (SPEC 3.8): one folder, one shared
// Session (firewall_session.h). Prefetch declares the resources and reads
// each family once (iptables-save, a query; the persisted file under
// --root); Read reports a resource's part of the plan (ipt_plan.h); Apply
// queues; Flush restores each changed table once (--test first) and
// writes the persisted file. Formats: ipt_save.h, ipt_rule.h.
#include <cctype>

#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/firewall/firewall_session.h"
#include "resources/firewall/ipt_rule.h"

namespace keel {
namespace {

using fw::ChainKey;

const std::vector<std::string> kTables = {"filter", "nat", "mangle", "raw", "security"};

std::vector<bool> Families(const Resource& r) {
  std::string f = r.GetString("family", "ipv4");
  if (f == "both") return {false, true};
  return {f == "ipv6"};
}

std::string FamilyTool(bool v6) { return v6 ? "ip6tables" : "iptables"; }

// ---- iptables_rule --------------------------------------------------------

TypeSchema RuleSchema() {
  auto prop = [](std::string name, std::string doc, AttrKind kind = AttrKind::kString) {
    return AttrSpec{.name = std::move(name), .kind = kind, .doc = std::move(doc)};
  };
  auto param = [](std::string name, std::string doc, AttrKind kind = AttrKind::kString) {
    return AttrSpec{
        .name = std::move(name), .kind = kind, .role = AttrRole::kParameter, .doc = std::move(doc)};
  };
  TypeSchema s{
      .name = "iptables_rule",
      .doc =
          "One iptables/ip6tables rule, recognised by its comment; placed by order among "
          "keel's rules of its chain.",
      .attrs = {
          {.name = "name",
           .role = AttrRole::kNamevar,
           .doc = "Free name (the title), e.g. `100 allow http`."},
          {.name = "ensure",
           .default_value = Value("present"),
           .allowed = {"present", "absent"},
           .doc = "present or absent."},
          {.name = "table",
           .role = AttrRole::kParameter,
           .default_value = Value("filter"),
           .allowed = kTables,
           .doc = "The table."},
          {.name = "chain",
           .role = AttrRole::kParameter,
           .default_value = Value("INPUT"),
           .doc = "The chain (built-in or user chain; a missing user chain is created)."},
          param("order",
                "Place among keel's rules of the chain (then the title). Default: the "
                "leading number of the title, else 50.",
                AttrKind::kInt),
          {.name = "family",
           .role = AttrRole::kParameter,
           .default_value = Value("ipv4"),
           .allowed = {"ipv4", "ipv6", "both"},
           .doc = "iptables, ip6tables or both (an address of the other family is an error)."},
          prop("proto", "Protocol name or number (tcp, udp, icmp, 50, all)."),
          prop("source", "Source address or network (10.0.0.0/8, 2001:db8::/32)."),
          prop("destination", "Destination address or network."),
          prop("sport", "Source port, `a:b` range, or a list (multiport).",
               AttrKind::kStringOrList),
          prop("dport", "Destination port, `a:b` range, or a list (multiport).",
               AttrKind::kStringOrList),
          prop("iniface", "Input interface (-i)."),
          prop("outiface", "Output interface (-o)."),
          prop("state", "Connection states: NEW, ESTABLISHED, RELATED, INVALID (-m state).",
               AttrKind::kList),
          prop("icmp_type", "ICMP type name or number (echo-request, 3/4, any)."),
          prop("jump", "Target: ACCEPT, DROP, REJECT, LOG, RETURN or a chain."),
          prop("reject_with", "REJECT's --reject-with (icmp-host-prohibited, tcp-reset, ...)."),
          prop("log_prefix", "LOG's --log-prefix (at most 29 characters)."),
          prop("raw",
               "More iptables match arguments, as written after the ones above "
               "(`-m limit --limit 5/min`)."),
          param("comment",
                "The comment keel tags the rule with and recognises it by. Default: "
                "the title."),
      }};
  return s;
}

void NormalizeRule(Resource& r) {
  if (!r.Has("order")) {
    const std::string& t = r.title();
    size_t n = 0;
    while (n < t.size() && n < 9 && std::isdigit(static_cast<unsigned char>(t[n]))) ++n;
    r.attrs.Set("order", Value(int64_t{n ? std::stoll(t.substr(0, n)) : 50}));
  }
  if (!r.Has("comment")) r.attrs.Set("comment", Value(r.title()));
}

fw::RuleSpec SpecOf(const Resource& r, bool v6) {
  fw::RuleSpec s;
  s.ipv6 = v6;
  s.proto = r.GetString("proto");
  s.source = r.GetString("source");
  s.destination = r.GetString("destination");
  s.sport = r.GetList("sport");
  s.dport = r.GetList("dport");
  s.iniface = r.GetString("iniface");
  s.outiface = r.GetString("outiface");
  s.state = r.GetList("state");
  s.icmp_type = r.GetString("icmp_type");
  s.jump = r.GetString("jump");
  s.reject_with = r.GetString("reject_with");
  s.log_prefix = r.GetString("log_prefix");
  s.raw = r.GetString("raw");
  s.comment = r.GetString("comment", r.title());
  return s;
}

void ValidateRule(const Resource& r, std::vector<AttrProblem>& problems) {
  std::string chain = r.GetString("chain");
  if (chain.empty() || chain.size() > 28 || chain.find_first_of(" \t\"'!") != std::string::npos ||
      chain.front() == '-')
    problems.push_back({"chain", r.id() + ": chain '" + chain + "' is not a chain name"});
  for (bool v6 : Families(r)) {
    std::vector<fw::SpecProblem> ps;
    (void)fw::Render(SpecOf(r, v6), ps);
    for (auto& [attr, msg] : ps) {
      bool dup = false;
      for (const auto& p : problems) dup = dup || p.message == r.id() + ": " + msg;
      if (!dup) problems.push_back({attr, r.id() + ": " + msg});
    }
  }
}

std::string RuleLine(const std::string& chain, const std::string& args) {
  return "-A " + chain + (args.empty() ? "" : " " + args);
}

// What Read found for one resource, per family: the changes Diff reports.
struct FwObs {
  std::vector<Change> changes;
  std::map<bool, std::set<std::string>> tables;  // family -> tables the changes touch
};

Change FileChangeOf(const fw::Family& f, const std::pair<std::string, std::string>& change) {
  return {"persisted", Value(f.file_content ? "differs" : "absent"), Value(f.file), change.second};
}

class FirewallProvider : public Provider {
 public:
  bool VerifyAfterApply() const override { return false; }

  std::vector<Change> Diff(const Resource& want, const Observation& have,
                           RunContext& ctx) override {
    const FwObs* o = have.State<FwObs>();
    if (!o) return {};
    if (o->changes.empty()) Session(ctx).Settled(want.id());
    return o->changes;
  }

  Result<void> Apply(const Resource& want, const Observation& have, std::span<const Change> changes,
                     Host& host, RunContext& ctx, Outcome& out) override {
    (void)changes, (void)host;
    const FwObs* o = have.State<FwObs>();
    if (!o) return {};
    for (bool v6 : Families(want)) {
      auto it = o->tables.find(v6);
      Session(ctx).Applied(want.id(), v6,
                           it == o->tables.end() ? std::set<std::string>{} : it->second);
    }
    if (!ctx.noop) out.message = "queued for iptables-restore";
    return {};
  }

  Result<void> Flush(std::span<const Resource* const> changed, Host& host,
                     RunContext& ctx) override {
    if (host.dry_run() || ctx.noop) return {};
    std::vector<std::string> ids;
    for (const Resource* r : changed) ids.push_back(r->id());
    return Session(ctx).Flush(host, ctx, ids, &failed_ids_);
  }
  std::vector<std::string> FlushFailedIds() const override { return failed_ids_; }

 protected:
  static fw::Session& Session(RunContext& ctx) { return ctx.Shared<fw::Session>("firewall"); }
  std::vector<std::string> failed_ids_;  // of the last Flush

  // The persisted file's change, carried by the family's first resource read.
  static void AddFileChange(fw::Session& s, fw::Family& f, const fw::Computed& c,
                            const std::string& id, FwObs& o, bool v6) {
    if (f.file_owner.empty()) f.file_owner = id;
    if (f.file_owner != id) return;
    if (auto ch = s.FileChange(f, c.rs)) {
      o.changes.push_back(FileChangeOf(f, *ch));
      o.tables[v6];
    }
  }
};

class RuleProvider : public FirewallProvider {
 public:
  Result<void> Prefetch(std::span<const Resource* const> all, Host& host,
                        RunContext& ctx) override {
    fw::Session& s = Session(ctx);
    for (const Resource* r : all)
      for (bool v6 : Families(*r)) {
        std::vector<fw::SpecProblem> ps;
        s.AddRule({.id = r->id(),
                   .v6 = v6,
                   .table = r->GetString("table"),
                   .chain = r->GetString("chain"),
                   .comment = r->GetString("comment", r->title()),
                   .args = fw::Render(SpecOf(*r, v6), ps),
                   .title = r->title(),
                   .order = r->GetInt("order", 50),
                   .present = r->GetString("ensure") != "absent"});
        s.Load(host, ctx, v6);
      }
    return {};
  }

  Result<Observation> Read(const Resource& want, Host& host, RunContext& ctx) override {
    fw::Session& s = Session(ctx);
    Observation have;
    FwObs o;
    bool present_all = true, first = true;
    for (bool v6 : Families(want)) {
      auto plan = s.Plan(host, ctx, v6);
      if (!plan.ok()) return plan.error();
      const fw::Computed& c = **plan;
      fw::Family& f = s.family(v6);
      ChainKey key{want.GetString("table"), want.GetString("chain")};
      const fw::WantStatus* st = nullptr;
      const fw::RuleDecl* decl = nullptr;
      if (auto it = c.plans.find(key); it != c.plans.end()) {
        const auto& idx = c.decls.at(key);
        for (size_t k = 0; k < idx.size(); ++k)
          if (s.rules()[idx[k]].id == want.id() && s.rules()[idx[k]].v6 == v6) {
            st = &it->second.wants[k];
            decl = &s.rules()[idx[k]];
          }
      }
      if (!st || !decl) return MakeError(ErrorCode::kInternal, want.id() + " was not prefetched");
      const std::string& chain = key.second;
      std::string head = "# " + FamilyTool(v6) + " -t " + key.first + "\n";
      bool want_present = decl->present;
      if (!st->found) present_all = false;
      if (want_present && !st->found) {
        o.changes.push_back({"ensure", Value("absent"), Value("present"),
                             head + "+" + RuleLine(chain, decl->args) + "\n"});
        o.tables[v6].insert(key.first);
      }
      if (want_present && st->changed) {
        o.changes.push_back({"rule", Value(st->live_args), Value(decl->args),
                             head + "-" + RuleLine(chain, st->live_args) + "\n+" +
                                 RuleLine(chain, decl->args) + "\n"});
        o.tables[v6].insert(key.first);
      }
      if (want_present && st->moved) {
        o.changes.push_back(
            {"position", Value(int64_t(st->from)), Value(int64_t(st->to)),
             head + "~" + RuleLine(chain, st->found && !st->changed ? st->live_args : decl->args) +
                 "   (moved from rule " + std::to_string(st->from) + " to " +
                 std::to_string(st->to) + ")\n"});
        o.tables[v6].insert(key.first);
      }
      if (!st->removed.empty()) {
        std::string d = head;
        for (const auto& a : st->removed) d += "-" + RuleLine(chain, a) + "\n";
        if (want_present)
          o.changes.push_back(
              {"duplicates", Value(int64_t(st->removed.size())), Value(int64_t{0}), d});
        else
          o.changes.push_back({"ensure", Value("present"), Value("absent"), d});
        o.tables[v6].insert(key.first);
      }
      AddFileChange(s, f, c, want.id(), o, v6);
      if (first) {
        first = false;
        Observe(want, f, v6, st->found ? st->live_args : "", have);
      }
    }
    if (!have.Has("ensure")) have.Set("ensure", Value(present_all ? "present" : "absent"));
    have.SetState(std::move(o));
    return have;
  }

 private:
  // The rule's attributes as found (printed by `keel resource`). When the
  // rule is not in its declared chain, any chain of the family carrying its
  // comment is reported.
  static void Observe(const Resource& want, const fw::Family& f, bool v6, const std::string& args,
                      Observation& have) {
    std::string comment = want.GetString("comment", want.title());
    const fw::Rule* found = nullptr;
    std::string table;
    for (const auto& t : f.live.tables)
      for (const auto& r : t.rules)
        if (!found && r.Comment() == comment &&
            (args.empty() || (r.args == args && r.chain == want.GetString("chain") &&
                              t.name == want.GetString("table")))) {
          found = &r;
          table = t.name;
        }
    if (!found) {
      have.Set("ensure", Value("absent"));
      return;
    }
    have.Set("ensure", Value("present"));
    have.Set("table", Value(table));
    have.Set("chain", Value(found->chain));
    fw::RuleSpec s = fw::FromRule(*found, v6);
    std::vector<fw::SpecProblem> ps;
    if (fw::Render(s, ps) != found->args || !ps.empty()) {
      // Not in keel's shape: everything but the comment and target as raw.
      fw::RuleSpec alt;
      alt.ipv6 = v6;
      alt.comment = s.comment;
      alt.jump = s.jump;
      alt.reject_with = s.reject_with;
      alt.log_prefix = s.log_prefix;
      fw::RuleParts p = found->Parts();
      std::vector<std::string> raw = p.base;
      for (const auto& m : p.matches) {
        if (m.name == "comment") continue;
        raw.push_back("-m");
        raw.push_back(m.name);
        raw.insert(raw.end(), m.words.begin(), m.words.end());
      }
      for (const auto& w : raw)
        alt.raw +=
            (alt.raw.empty() ? "" : " ") +
            (w.empty() || w.find_first_of(" \t\"'\\") != std::string::npos ? fw::Quote(w) : w);
      s = alt;
    }
    auto set = [&](const char* k, const std::string& v) {
      if (!v.empty()) have.Set(k, Value(v));
    };
    auto set_list = [&](const char* k, const std::vector<std::string>& v) {
      if (v.size() == 1) have.Set(k, Value(v[0]));
      if (v.size() > 1) {
        List l;
        for (const auto& x : v) l.push_back(Value(x));
        have.Set(k, Value(std::move(l)));
      }
    };
    if (v6) have.Set("family", Value("ipv6"));
    set("proto", s.proto);
    set("source", s.source);
    set("destination", s.destination);
    set_list("sport", s.sport);
    set_list("dport", s.dport);
    set("iniface", s.iniface);
    set("outiface", s.outiface);
    set_list("state", s.state);
    set("icmp_type", s.icmp_type);
    set("raw", s.raw);
    set("jump", s.jump);
    set("reject_with", s.reject_with);
    set("log_prefix", s.log_prefix);
    if (s.comment != want.title()) set("comment", s.comment);
  }
};

// ---- iptables_chain -------------------------------------------------------

TypeSchema ChainSchema() {
  return {
      .name = "iptables_chain",
      .doc =
          "An iptables/ip6tables chain: a built-in chain's policy, a user chain's existence, "
          "and whether rules keel does not manage are purged.",
      .attrs =
          {
              {.name = "name",
               .role = AttrRole::kNamevar,
               .doc = "`table:CHAIN` (the title), e.g. `filter:RH-Firewall-1-INPUT`."},
              {.name = "ensure",
               .default_value = Value("present"),
               .allowed = {"present", "absent"},
               .doc = "present or absent (user chains only)."},
              {.name = "family",
               .role = AttrRole::kParameter,
               .default_value = Value("ipv4"),
               .allowed = {"ipv4", "ipv6", "both"},
               .doc = "iptables, ip6tables or both."},
              {.name = "policy",
               .allowed = {"ACCEPT", "DROP"},
               .doc = "Policy of a built-in chain."},
              {.name = "purge",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(false),
               .doc = "Remove the chain's rules that no iptables_rule of this run declares."},
          },
  };
}

std::pair<std::string, std::string> SplitChainTitle(const std::string& name) {
  size_t colon = name.find(':');
  if (colon == std::string::npos) return {"", ""};
  return {name.substr(0, colon), name.substr(colon + 1)};
}

bool IsBuiltinChain(const std::string& table, const std::string& chain) {
  for (const auto& b : fw::BuiltinChains(table))
    if (b == chain) return true;
  return false;
}

void ValidateChain(const Resource& r, std::vector<AttrProblem>& problems) {
  auto [table, chain] = SplitChainTitle(r.GetString("name"));
  if (std::find(kTables.begin(), kTables.end(), table) == kTables.end() || chain.empty() ||
      chain.size() > 28 || chain.find_first_of(" \t\"'!:") != std::string::npos ||
      chain.front() == '-') {
    problems.push_back({"name", r.id() + ": the title must be TABLE:CHAIN with TABLE one of "
                                         "filter, nat, mangle, raw, security (filter:INPUT)"});
    return;
  }
  bool builtin = IsBuiltinChain(table, chain);
  if (r.Has("policy") && !builtin)
    problems.push_back({"policy", r.id() + ": only built-in chains have a policy"});
  if (builtin && r.GetString("ensure") == "absent")
    problems.push_back({"ensure", r.id() + ": a built-in chain cannot be absent"});
}

class ChainProvider : public FirewallProvider {
 public:
  Result<void> Prefetch(std::span<const Resource* const> all, Host& host,
                        RunContext& ctx) override {
    fw::Session& s = Session(ctx);
    for (const Resource* r : all) {
      auto [table, chain] = SplitChainTitle(r->GetString("name"));
      for (bool v6 : Families(*r)) {
        s.AddChain({.id = r->id(),
                    .v6 = v6,
                    .table = table,
                    .chain = chain,
                    .policy = r->GetString("policy"),
                    .present = r->GetString("ensure") != "absent",
                    .purge = r->GetBool("purge", false)});
        s.Load(host, ctx, v6);
      }
    }
    return {};
  }

  Result<Observation> Read(const Resource& want, Host& host, RunContext& ctx) override {
    fw::Session& s = Session(ctx);
    auto [table, chain] = SplitChainTitle(want.GetString("name"));
    bool builtin = IsBuiltinChain(table, chain);
    Observation have;
    FwObs o;
    bool first = true;
    for (bool v6 : Families(want)) {
      auto plan = s.Plan(host, ctx, v6);
      if (!plan.ok()) return plan.error();
      const fw::Computed& c = **plan;
      fw::Family& f = s.family(v6);
      std::string head = "# " + FamilyTool(v6) + " -t " + table + "\n";
      const fw::Table* t = f.live.Find(table);
      const fw::Chain* ch = t ? t->FindChain(chain) : nullptr;
      bool exists = ch || builtin;
      std::string policy = ch ? ch->policy : "ACCEPT";
      if (first) {
        first = false;
        have.Set("ensure", Value(exists ? "present" : "absent"));
        if (builtin) have.Set("policy", Value(policy));
        if (v6) have.Set("family", Value("ipv6"));
      }
      bool want_present = want.GetString("ensure") != "absent";
      if (want_present && !exists) {
        o.changes.push_back(
            {"ensure", Value("absent"), Value("present"), head + "+:" + chain + " -\n"});
        o.tables[v6].insert(table);
      } else if (!want_present && ch) {
        std::string d = head + "-:" + chain + " -\n";
        for (const fw::Rule* r : t->RulesOf(chain)) d += "-" + r->Line() + "\n";
        o.changes.push_back({"ensure", Value("present"), Value("absent"), d});
        o.tables[v6].insert(table);
      }
      if (builtin && want.Has("policy") && want.GetString("policy") != policy) {
        o.changes.push_back({"policy", Value(policy), Value(want.GetString("policy")), ""});
        o.tables[v6].insert(table);
      }
      if (auto it = c.plans.find({table, chain});
          it != c.plans.end() && !it->second.purged.empty()) {
        std::string d = head;
        for (const auto& a : it->second.purged) d += "-" + RuleLine(chain, a) + "\n";
        o.changes.push_back({"purge",
                             Value(std::to_string(it->second.purged.size()) + " unmanaged rules"),
                             Value("none"), d});
        o.tables[v6].insert(table);
      }
      AddFileChange(s, f, c, want.id(), o, v6);
    }
    have.SetState(std::move(o));
    return have;
  }
};

}  // namespace

void RegisterFirewall(Registry& r) {
  // Every firewall resource names all four persisted files: they share
  // one session, so they never run at once under --jobs.
  auto files = [](const Resource&) {
    std::vector<std::string> out;
    for (bool v6 : {false, true})
      for (const char* osf : {"RedHat", "Debian"}) out.push_back(fw::PersistedFile(osf, v6));
    return out;
  };
  r.Add({
      .schema = RuleSchema(),
      .make_provider = [] { return std::make_unique<RuleProvider>(); },
      .normalize = NormalizeRule,
      .validate = ValidateRule,
      .identity =
          [](const Resource& res) {
            return res.GetString("family") + ":" + res.GetString("table") + ":" +
                   res.GetString("chain") + ":" + res.GetString("comment", res.title());
          },
      .paths = files,
  });
  r.Add({
      .schema = ChainSchema(),
      .make_provider = [] { return std::make_unique<ChainProvider>(); },
      .validate = ValidateChain,
      .identity = [](const Resource& res) { return res.GetString("family") + ":" + res.title(); },
      .paths = files,
  });
}

}  // namespace keel
