// The run-wide firewall state shared by iptables_rule and iptables_chain
// (RunContext::Shared("firewall")): what both types declared, the live
// rules of each family (one query-marked iptables-save per family, or the
// persisted file under --root), the plan of every chain keel touches, and
// the work Apply queued for Flush (one iptables-restore --noflush per
// changed table after --test accepted it, then the persisted file).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/host.h"
#include "engine/provider.h"
#include "resources/firewall/ipt_plan.h"
#include "resources/firewall/ipt_save.h"

namespace keel::fw {

struct RuleDecl {
  std::string id;  // resource id
  bool v6 = false;
  std::string table, chain, comment, args, title;
  int64_t order = 50;
  bool present = true;
};

struct ChainDecl {
  std::string id;
  bool v6 = false;
  std::string table, chain, policy;  // policy "" = not managed
  bool present = true;
  bool purge = false;
};

using ChainKey = std::pair<std::string, std::string>;  // table, chain

/// One family's desired state, computed from the live rules and the
/// declarations whose resources count as active.
struct Computed {
  Ruleset rs;
  std::map<ChainKey, ChainPlan> plans;
  std::map<ChainKey, std::vector<size_t>> decls;  // per chain: RuleDecl indices, in Want order
};

struct Family {
  bool v6 = false;
  bool loaded = false;
  std::optional<std::string> error;  // loading failed: every resource of the family fails
  std::string save, restore, cmd;    // the backend's programs (iptables-save, ...)
  bool legacy = false;
  Ruleset live;                             // iptables-save, or the file under --root
  std::string file;                         // the persisted file
  std::optional<std::string> file_content;  // as read; nullopt = absent
  std::optional<Computed> plan;             // everything declared active (Read's view)
  std::string file_owner;                   // resource whose changes carry the file
  std::set<std::string> dirty;              // tables with queued changes
  bool file_pending = false;
  std::map<std::string, std::string> table_errors;  // table -> why its restore failed
  std::optional<std::string> file_error;
  std::map<std::tuple<std::string, std::string, std::string>, bool> same_cache;
};

class Session {
 public:
  void AddRule(RuleDecl d);
  void AddChain(ChainDecl d);
  /// Reads the family's live rules (or file) once per run.
  Family& Load(Host& host, RunContext& ctx, bool v6);
  /// The family's plan with every declaration active (computed once per
  /// live state). Error when the family could not be read.
  Result<const Computed*> Plan(Host& host, RunContext& ctx, bool v6);

  const std::vector<RuleDecl>& rules() const { return rules_; }
  const std::vector<ChainDecl>& chains() const { return chains_; }
  Family& family(bool v6) { return fam_[v6 ? 1 : 0]; }

  /// The persisted file's change when it differs from `c`: its new content
  /// and unified diff; nullopt when it already matches.
  std::optional<std::pair<std::string, std::string>> FileChange(const Family& f,
                                                                const Ruleset& rs) const;

  void Settled(const std::string& id) { active_.insert(id); }
  /// Queues the resource's tables (and the file when it carries it).
  void Applied(const std::string& id, bool v6, const std::set<std::string>& tables);
  /// Restores every queued table, re-reads, writes the persisted files.
  /// Errors are kept per table; the result is the error of `ids`' tables.
  Result<void> Flush(Host& host, RunContext& ctx, const std::vector<std::string>& ids,
                     std::vector<std::string>* failed_ids = nullptr);

 private:
  Computed Compute(Host& host, Family& f, bool all_active);
  bool Same(Host& host, Family& f, const std::string& table, const std::string& chain,
            const std::string& want_args, const Rule& live);
  Result<void> ReadLive(Host& host, Family& f);
  Result<void> FlushFamily(Host& host, Family& f);

  std::vector<RuleDecl> rules_;
  std::vector<ChainDecl> chains_;
  std::set<std::string> active_;  // resources read unchanged or applied
  Family fam_[2];
};

/// The persisted file of a family for an os.family fact.
std::string PersistedFile(const std::string& os_family, bool v6);

}  // namespace keel::fw
