// keel's commands (SPEC 1). Argument parsing uses CLI11 (libcli11-dev):
// header-only, packaged by Debian, subcommands with their own options,
// repeatable options (--var), delimited lists (--tags a,b), value checks
// (--format text|json) and consistent usage errors — all of which a
// hand-written getopt loop would have to re-invent and test.
//
// Choices (README):
//  - stdout carries reports (text or JSON), DOT, facts, YAML; stderr carries
//    errors, warnings and -v logging (engine/log.h: spdlog; -q errors only,
//    default warnings and errors, -v info).
//  - `keel facts` prints YAML by default (for people); --format json for
//    machines.
//  - A dry run (plan, apply --noop) writes nothing anywhere: no lock, no
//    state dir, no backups, no last_run.json (--report FILE is still written:
//    the user asked for that file).
//  - `keel resource TYPE TITLE` works for every type whose Read needs only
//    the title; others answer "not supported for TYPE: ...".
#include "engine/cli/commands.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/atomic_file.h"
#include "engine/cli/docgen.h"
#include "engine/cli/version.h"
#include "engine/config_repo.h"
#include "engine/digest.h"
#include "engine/facts.h"
#include "engine/host_real.h"
#include "engine/interrupt.h"
#include "engine/log.h"
#include "engine/provider.h"
#include "engine/registry.h"
#include "engine/report.h"
#include "engine/run.h"
#include "engine/state.h"
#include "engine/subprocess.h"
#include "engine/text_lines.h"
#include "engine/yaml_value.h"

namespace keel::cli {
namespace {

constexpr int kExitError = 1;

/// Options shared by apply, plan, validate and graph (SPEC 1 table).
struct RunFlags {
  std::string path = "./site.yaml";
  std::string root = "/";
  bool noop = false;
  std::vector<std::string> vars;
  std::string facts_file;
  std::vector<std::string> tags;
  std::string format = "text";
  std::string report_file;
  bool detailed = false;
  int jobs = 1;
  std::string state_dir;
  double lock_timeout = 0;
  std::string color = "auto";
  int verbose = 0;
  bool quiet = false;
  std::string git_url, branch, ref, ssh_key;
  std::string max_age;
  bool no_rewind = false;
  std::string known_hosts, ca_file, verify_signature;
  double stop_grace = 30;  // seconds a running command may go on after SIGTERM/SIGINT
};

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool UseColor(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  return ::isatty(STDOUT_FILENO) != 0;
}

RunRequest ToRequest(const RunFlags& f, bool dry) {
  return RunRequest{.path = f.path,
                    .root = f.root,
                    .dry = dry,
                    .vars = f.vars,
                    .facts_file = f.facts_file,
                    .tags = f.tags,
                    .jobs = f.jobs,
                    .state_dir = f.state_dir,
                    .lock_timeout = f.lock_timeout,
                    .git_url = f.git_url,
                    .branch = f.branch,
                    .ref = f.ref,
                    .ssh_key = f.ssh_key,
                    .max_age = f.max_age,
                    .no_rewind = f.no_rewind,
                    .known_hosts = f.known_hosts,
                    .ca_file = f.ca_file,
                    .verify_signature = f.verify_signature,
                    .detailed = f.detailed,
                    .stop_grace = f.stop_grace};
}

int CmdApply(const RunFlags& f, bool plan) {
  const bool dry = plan || f.noop;
  // SIGTERM/SIGINT: stop starting resources, finish the running one, report
  // (engine/interrupt.h); a second signal stops at once.
  InstallStopSignals(f.stop_grace);
  RunRequest request = ToRequest(f, dry);
  // Progress on a terminal (stderr) once a run takes longer than a moment.
  const bool progress = !f.quiet && ::isatty(STDERR_FILENO) != 0;
  bool progress_shown = false;
  auto run_start = std::chrono::steady_clock::now();
  std::mutex progress_mu;  // --jobs: resources start and commands print concurrently
  std::string current;     // "[3/40] package[rng-tools]"
  if (progress) {
    request.on_start = [&](const Resource& r, size_t started, size_t total) {
      std::lock_guard<std::mutex> lock(progress_mu);
      current = "[" + std::to_string(started) + "/" + std::to_string(total) + "] " + r.id();
      if (std::chrono::steady_clock::now() - run_start < std::chrono::milliseconds(300)) return;
      log::Progress(current);
      progress_shown = true;
    };
    // A long command (a package transaction, a slow exec): its newest line.
    SetOutputProgress([&](const std::string& program, const std::string& line) {
      std::lock_guard<std::mutex> lock(progress_mu);
      log::Progress(current + (current.empty() ? "" : ": ") + program + ": " + line);
      progress_shown = true;
    });
  }
  RunOutcome run = RunPipeline(request);
  SetOutputProgress(nullptr);
  if (progress_shown) log::Progress("");
  if (!run.converged) {
    // A --git run that failed before converging still has its report.
    if (!run.json.empty()) {
      if (f.format == "json") std::cout << run.json << "\n" << std::flush;
      if (!f.report_file.empty()) {
        auto w = AtomicWriteFile(f.report_file, run.json + "\n");
        if (!w.ok()) log::Error(w.error().message);
      }
    }
    return kExitError;
  }

  if (f.format == "json") {
    std::cout << run.json << "\n";
  } else {
    TextOptions to{.color = UseColor(f.color),
                   .verbosity = f.quiet ? -1 : (f.verbose > 0 ? 1 : 0),
                   .show_diffs = dry || f.verbose > 0};
    RenderText(run.report, to, std::cout);
  }
  std::cout.flush();
  std::cerr.flush();
  int code = run.exit_code;
  if (!f.report_file.empty()) {
    auto w = AtomicWriteFile(f.report_file, run.json + "\n");
    if (!w.ok()) {
      log::Error(w.error().message);
      code = f.detailed ? (code | 4) : kExitError;
    }
  }
  return code;
}

int CmdValidate(const RunFlags& f) {
  auto l = LoadRun(ToRequest(f, true), false);
  if (!l) return kExitError;
  std::cout << "ok: " << l->catalog.resources.size() << " resources\n";
  for (const auto& w : l->catalog.warnings) log::WarningLine(w);
  return 0;
}

extern "C" char** environ;

// `keel graph --format svg`: the DOT text piped into Graphviz's `dot -Tsvg`,
// whose output goes straight to keel's stdout (no size limit, no copy).
int DotToSvg(const std::string& dot) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    log::Error(std::string("graph: pipe: ") + std::strerror(errno));
    return kExitError;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  std::string prog = "dot", fmt = "-Tsvg";
  char* argv[] = {prog.data(), fmt.data(), nullptr};
  std::cout.flush();
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, "dot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    if (rc == ENOENT)
      log::Error(
          "graph --format svg needs Graphviz's `dot`, which is not installed (Debian: apt-get "
          "install graphviz); `keel graph` without --format prints the DOT text");
    else
      log::Error(std::string("graph: cannot run dot: ") + std::strerror(rc));
    return kExitError;
  }
  // dot exiting early (a bad option, killed) must not kill keel by SIGPIPE.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  size_t off = 0;
  while (off < dot.size()) {
    ssize_t n = ::write(fds[1], dot.data() + off, dot.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(fds[1]);
  ::sigaction(SIGPIPE, &old, nullptr);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    log::Error("graph: dot failed (" +
               (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                  : "signal " + std::to_string(WTERMSIG(status))) +
               ")");
    return kExitError;
  }
  return 0;
}

int CmdGraph(const RunFlags& f, const std::string& format) {
  auto l = LoadRun(ToRequest(f, true), false);
  if (!l) return kExitError;
  std::string dot = l->graph->ToDot(l->catalog);
  if (format == "svg") return DotToSvg(dot);
  std::cout << dot;
  return 0;
}

int CmdFacts(const std::string& root, const std::string& format, const std::string& facts_file) {
  if (!IsDir(root)) {
    log::Error("--root " + root + ": not a directory");
    return kExitError;
  }
  auto host = OpenRealHost(root, nullptr);
  if (!host.ok()) {
    log::Error(host.error().message);
    return kExitError;
  }
  Value facts = GatherFacts(**host);
  if (!facts_file.empty()) {
    auto merged = MergeFactsFile(facts, facts_file);
    if (!merged.ok()) {
      log::Error(merged.error().message);
      return kExitError;
    }
  }
  if (format == "json")
    std::cout << FactsToJson(facts) << "\n";
  else
    std::cout << FactsToYaml(facts);
  return 0;
}

int CmdTypes() {
  Registry reg;
  RegisterBuiltinTypes(reg);
  size_t width = 0;
  for (const auto* t : reg.All()) width = std::max(width, t->schema.name.size());
  for (const auto* t : reg.All()) {
    std::string doc = t->schema.doc;
    if (auto nl = doc.find('\n'); nl != std::string::npos) doc = doc.substr(0, nl);
    std::cout << t->schema.name << std::string(width - t->schema.name.size() + 2, ' ') << doc
              << "\n";
  }
  return 0;
}

const TypeInfo* FindTypeOrSay(const Registry& reg, const std::string& type) {
  const TypeInfo* info = reg.Find(type);
  if (info) return info;
  std::string msg = "unknown type '" + type + "'";
  std::string near = ClosestName(type, reg.Names());
  if (!near.empty()) msg += " (did you mean '" + near + "'?)";
  msg += "; `keel types` lists them";
  log::Error(msg);
  return nullptr;
}

int CmdDescribe(const std::string& type) {
  Registry reg;
  RegisterBuiltinTypes(reg);
  const TypeInfo* info = FindTypeOrSay(reg, type);
  if (!info) return kExitError;
  std::cout << DescribeText(info->schema, true);
  return 0;
}

// Text `keel resource` prints as it is: valid UTF-8 without NUL or other
// control bytes (tab and newline allowed), and not over 64 KiB.
bool PrintableText(const std::string& s) {
  if (s.size() > kMaxShownContent) return false;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
      ++i;
      continue;
    }
    int len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || i + static_cast<size_t>(len) > s.size()) return false;
    for (int k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0xc0) != 0x80) return false;
    i += static_cast<size_t>(len);
  }
  return true;
}

int CmdResource(const std::string& type, const std::string& title, const std::string& root) {
  Registry reg;
  RegisterBuiltinTypes(reg);
  const TypeInfo* info = FindTypeOrSay(reg, type);
  if (!info) return kExitError;
  if (type == "exec") {
    log::Error("an exec cannot be read: it is a command to run, not state on the host");
    return kExitError;
  }
  if (title.empty()) {
    log::Error("listing every " + type + " is not supported: name one (keel resource " + type +
               " TITLE)");
    return kExitError;
  }
  if (!IsDir(root)) {
    log::Error("--root " + root + ": not a directory");
    return kExitError;
  }
  Resource want;
  want.ref = {type, title};
  want.loc = {"<command line>", 0, 0};
  // A line is named by its file and text: `keel resource line PATH:LINE`.
  std::vector<std::string> given;  // attributes taken from the title, printed as given
  if (type == "line") {
    size_t colon = title.find(':');
    if (title.empty() || title[0] != '/' || colon == std::string::npos) {
      log::Error("keel resource line needs PATH:LINE as its title (/etc/motd:welcome)");
      return kExitError;
    }
    want.attrs.Set("path", Value(title.substr(0, colon)));
    want.attrs.Set("line", Value(title.substr(colon + 1)));
    given = {"path", "line"};
  }
  // Reading needs the resource's identity, not the state to converge to:
  // a missing or unchecked property (a shellvar's value, a host's ip, a
  // sysctl's value) is what is read, so its problems do not count here.
  auto problems = PrepareResource(*info, want);
  std::erase_if(problems, [&](const AttrProblem& p) {
    std::string attr = p.attr;
    const std::string prefix = "missing required attribute '";
    if (attr.empty() && p.message.rfind(prefix, 0) == 0)
      attr = p.message.substr(prefix.size(), p.message.find('\'', prefix.size()) - prefix.size());
    const AttrSpec* spec = info->schema.Find(attr);
    return spec && spec->role == AttrRole::kProperty;
  });
  if (!problems.empty()) {
    log::Error("cannot read " + want.id() + ": " + problems[0].message);
    return kExitError;
  }
  auto host = OpenRealHost(root, nullptr);
  if (!host.ok()) {
    log::Error(host.error().message);
    return kExitError;
  }
  RunContext ctx;
  ctx.noop = true;
  ctx.facts = GatherFacts(**host);
  auto overlay = MakeOverlayHost(**host);  // Read must not write; make sure.
  auto provider = info->make_provider();
  const Resource* one[] = {&want};
  auto pf = provider->Prefetch(one, *overlay, ctx);
  if (!pf.ok()) {
    log::Error(want.id() + ": " + pf.error().message);
    return kExitError;
  }
  auto have = provider->Read(want, *overlay, ctx);
  if (!have.ok()) {
    log::Error(want.id() + ": " + have.error().message);
    return kExitError;
  }
  // The attributes; the first key (type: title) is printed apart, since a
  // type may have an attribute of its own name (line's `line`).
  Map entry;
  for (const auto& g : given)
    if (const Value* v = want.Get(g)) entry.Set(g, *v);
  if (info->schema.Find("ensure") && !have->Has("ensure")) {
    // A type that reports no ensure of its own (line): the value of ensure
    // under which the resource as read changes nothing.
    const AttrSpec* ensure = info->schema.Find("ensure");
    for (const auto& candidate : ensure->allowed) {
      Resource probe = want;
      probe.attrs.Set("ensure", Value(candidate));
      if (provider->Diff(probe, *have, ctx).empty()) {
        entry.Set("ensure", Value(candidate));
        break;
      }
    }
  }
  std::vector<std::string> notes;
  const AttrSpec* nv = info->schema.Namevar();
  for (const auto& [k, v] : *have) {
    if (v.is_null()) continue;
    if (k == "#" && v.is_string()) {
      // A provider's note on what it read (modprobe: the module is also
      // configured in another file), printed as comments.
      for (std::string_view line : SplitLines(v.as_string()))
        notes.push_back("# " + std::string(line));
      continue;
    }
    if (nv && k == nv->name && v.ToString() == title) continue;
    if (!info->schema.Find(k)) continue;  // internal state, not an attribute
    if (v.is_string() && !PrintableText(v.as_string())) {
      // Binary or large: left out (applying the output then leaves it as
      // it is), named by its size and checksum in a comment.
      notes.push_back("# " + ContentNotShown(k, v.as_string()));
      continue;
    }
    entry.Set(k, v);
  }
  for (const AttrSpec& a : info->schema.attrs) {
    if (!a.required || a.role == AttrRole::kNamevar || entry.Has(a.name)) continue;
    // Nothing of it was found (a sysctl key set in no file, an audit rule
    // by a name the host does not know): no resource describes that, so
    // the output declares none.
    std::cout << "# " << want.id() << ": not found (no " << a.name << " to report)\n";
    for (const auto& n : notes) std::cout << n << "\n";
    std::cout << "[]\n";
    return 0;
  }
  for (const auto& n : notes) std::cout << n << "\n";
  std::string head = ToYaml(Value(Map{{type, Value(title)}}));
  std::cout << "- " << head;
  if (!head.empty() && head.back() != '\n') std::cout << "\n";
  if (!entry.empty()) {
    const std::string body = ToYaml(Value(std::move(entry)));  // SplitLines views into it
    for (std::string_view line : SplitLines(body)) std::cout << "  " << line << "\n";
  }
  return 0;
}

/// Backups at or before `at` (RFC 3339 UTC, or a prefix of one).
bool AtOrBefore(const std::string& time, const std::string& at) {
  if (at.empty()) return true;
  return time.substr(0, at.size()) <= at;
}

int CmdRestore(const std::string& path_text, const std::string& at, const std::string& root,
               const std::string& state_dir_flag) {
  auto path = HostPath::Parse(path_text);
  if (!path.ok()) {
    log::Error("restore: " + path.error().message);
    return kExitError;
  }
  if (!at.empty() &&
      (at.size() < 4 || at.find_first_not_of("0123456789-T:.Z") != std::string::npos)) {
    log::Error("--at expects an RFC 3339 UTC time or a prefix of one (2026-11-29T10:00), got '" +
               at + "'");
    return kExitError;
  }
  if (!IsDir(root)) {
    log::Error("--root " + root + ": not a directory");
    return kExitError;
  }
  auto opened = MakeStateDir(root, state_dir_flag);
  if (!opened.ok()) {
    log::Error(opened.error().message);
    return kExitError;
  }
  StateDir& state = **opened;
  const std::string& sd = state.dir();
  auto index = state.Index();
  if (!index.ok()) {
    log::Error(index.error().message);
    return kExitError;
  }
  std::string at_cmp = at;
  if (!at_cmp.empty() && at_cmp.back() == 'Z') at_cmp.pop_back();
  const BackupEntry* pick = nullptr;
  if (at.empty()) {
    // Default: the content before the last keel run that changed the path
    // (the first backup that run made of it); the backups a restore made
    // are skipped, so a second restore does not undo the first.
    for (const auto& e : *index) {
      if (e.path != path->str() || e.origin == "restore") continue;
      if (!pick || e.time >= pick->time) pick = &e;
    }
    if (pick && !pick->origin.empty()) {
      for (const auto& e : *index)
        if (e.path == path->str() && e.origin == pick->origin && e.time < pick->time) pick = &e;
    }
  } else {
    for (const auto& e : *index) {
      if (e.path != path->str()) continue;
      std::string t = e.time;
      if (!t.empty() && t.back() == 'Z') t.pop_back();
      if (!AtOrBefore(t, at_cmp)) continue;
      if (!pick || e.time >= pick->time) pick = &e;
    }
  }
  if (!pick) {
    log::Error("no backup of " + path->str() +
               (at.empty() ? " made by a keel run" : " at or before " + at) + " in " + sd);
    return kExitError;
  }
  auto content = state.LoadBackup(pick->sha256);
  if (!content.ok()) {
    log::Error(content.error().message);
    return kExitError;
  }
  auto locked = state.Lock(0);
  if (!locked.ok()) {
    log::Error(locked.error().message);
    return kExitError;
  }
  state.SetBackupOrigin("restore");
  auto host = OpenRealHost(root, &state);
  if (!host.ok()) {
    log::Error(host.error().message);
    return kExitError;
  }
  auto parents = MakeParents(**host, *path);
  Result<void> w = parents.ok() ? (*host)->WriteFileAtomic(*path, *content, FileAttrs{})
                                : Result<void>(parents.error());
  state.Unlock();
  if (!w.ok()) {
    log::Error("restore " + path->str() + ": " + w.error().message);
    return kExitError;
  }
  std::cout << "restored " << path->str() << " from the backup of " << pick->time << " (sha256 "
            << pick->sha256 << ")\n";
  return 0;
}

int CmdPull(const PullOptions& po_in, const std::string& state_dir) {
  PullOptions po = po_in;
  // The run lock of the state dir (SPEC 7), when the checkout is the state
  // dir's or a state dir is named: an apply never sees a pull at work. With
  // --dest alone, the lock inside the checkout area serialises pulls.
  std::unique_ptr<StateDir> state;
  if (po.dest.empty() || !state_dir.empty()) {
    auto opened = MakeStateDir("/", state_dir);
    if (!opened.ok()) {
      log::Error(opened.error().message);
      return kExitError;
    }
    state = std::move(opened).value();
    auto locked = state->Lock(po.lock_timeout);
    if (!locked.ok()) {
      log::Error(locked.error().message);
      return kExitError;
    }
  }
  if (po.dest.empty()) {
    auto dir = state->RealPath();
    if (!dir.ok()) {
      log::Error(dir.error().message);
      return kExitError;
    }
    po.dest = *dir + "/repo";
  }
  // A long fetch shows its progress on a terminal (stderr), never in pipes.
  bool progress_shown = false;
  if (::isatty(STDERR_FILENO) != 0) {
    SetOutputProgress([&](const std::string& program, const std::string& line) {
      log::Progress(program + ": " + line);
      progress_shown = true;
    });
  }
  auto pulled = PullConfigRepo(po);
  SetOutputProgress(nullptr);
  if (progress_shown) log::Progress("");
  if (!pulled.ok()) {
    log::Error(pulled.error().message);
    return kExitError;
  }
  for (const auto& m : pulled->messages) log::WarningLine(m);
  std::cout << pulled->commit << " " << pulled->tree_dir << "\n";
  return pulled->fetched ? 0 : kExitError;
}

// --known-hosts, --ca-file, --verify-signature of pull and apply --git (SPEC 7).
void AddGitTrustOptions(CLI::App* sub, std::string& known_hosts, std::string& ca_file,
                        std::string& keys) {
  sub->add_option("--known-hosts", known_hosts,
                  "ssh host keys to trust (default ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts)");
  sub->add_option("--ca-file", ca_file, "CA certificates (PEM) for https:// URLs");
  sub->add_option("--verify-signature", keys,
                  "refuse commits not signed by these keys (allowed_signers / OpenPGP "
                  "public key file, or a directory of them)");
}

void AddRunOptions(CLI::App* sub, RunFlags& f, bool with_run_flags) {
  sub->add_option("PATH", f.path, "manifest file, or a directory holding site.yaml")
      ->type_name("PATH")
      ->capture_default_str();
  sub->add_option("--root", f.root, "manage the tree under DIR as /")
      ->type_name("DIR")
      ->capture_default_str();
  sub->add_option("--var", f.vars, "set a variable K=V (repeatable, highest precedence)")
      ->type_name("K=V")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--facts", f.facts_file, "YAML/JSON map merged over the discovered facts")
      ->type_name("FILE");
  sub->add_option("--tags", f.tags,
                  "only resources with one of these tags (plus what they require)")
      ->type_name("TAGS")
      ->delimiter(',')
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--state-dir", f.state_dir,
                  "backups, last run, lock (default <root>/var/lib/keel)")
      ->type_name("DIR");
  sub->add_option("--git", f.git_url, "apply a config repo from git")->type_name("URL");
  auto* branch = sub->add_option("--branch", f.branch, "branch of --git")->type_name("BRANCH");
  sub->add_option("--ref", f.ref, "revision of --git (excludes --branch)")
      ->type_name("REV")
      ->excludes(branch);
  sub->add_option("--max-age", f.max_age,
                  "--git: fail when the last successful fetch is older (30m, 2h, 1d)")
      ->type_name("DURATION");
  sub->add_flag("--no-rewind", f.no_rewind,
                "--git: refuse a commit that does not descend from the last applied one");
  sub->add_option("--ssh-key", f.ssh_key, "private key for ssh:// URLs")->type_name("FILE");
  AddGitTrustOptions(sub, f.known_hosts, f.ca_file, f.verify_signature);
  sub->add_flag("-v,--verbose", f.verbose, "more output (unchanged resources, timings)");
  sub->add_flag("-q,--quiet", f.quiet, "less output");
  if (!with_run_flags) return;
  sub->add_flag("--noop", f.noop, "dry run: show what would change, change nothing");
  sub->add_option("--format", f.format, "output on stdout")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  sub->add_option("--report", f.report_file, "also write the JSON report to FILE")
      ->type_name("FILE");
  sub->add_flag("--detailed-exitcodes", f.detailed, "0 no change, 2 changes, 4 failures, 6 both");
  sub->add_option("--jobs", f.jobs, "converge up to N independent resources at once")
      ->type_name("N")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sub->add_option("--lock-timeout", f.lock_timeout, "wait up to S seconds for another run's lock")
      ->type_name("S")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--stop-grace", f.stop_grace,
                  "after SIGTERM/SIGINT, let a running command go on S seconds before killing it")
      ->type_name("S")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--color", f.color, "colour (NO_COLOR is honoured)")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"keel: declarative host provisioning (apply, plan, validate, ...)", "keel"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help of every command");
  app.set_version_flag("-V,--version", [] { return VersionText(); });

  RunFlags run;
  auto* apply = app.add_subcommand("apply", "converge the host to the manifests");
  AddRunOptions(apply, run, true);
  auto* plan = app.add_subcommand("plan", "show what apply would change (changes nothing)");
  AddRunOptions(plan, run, true);
  auto* validate = app.add_subcommand("validate", "load, type-check and check the graph");
  AddRunOptions(validate, run, false);
  auto* graph = app.add_subcommand("graph", "print the resource graph as Graphviz DOT or SVG");
  AddRunOptions(graph, run, false);
  std::string graph_format = "dot";
  graph->add_option("--format", graph_format, "dot, or svg through Graphviz's dot")
      ->check(CLI::IsMember({"dot", "svg"}))
      ->capture_default_str();

  std::string facts_root = "/", facts_format = "yaml", facts_file;
  auto* facts = app.add_subcommand("facts", "print the facts keel sees");
  facts->add_option("--root", facts_root, "read the facts of the tree under DIR")
      ->type_name("DIR")
      ->capture_default_str();
  facts->add_option("--format", facts_format, "yaml (default) or json")
      ->check(CLI::IsMember({"json", "yaml"}))
      ->capture_default_str();
  facts->add_option("--facts", facts_file, "YAML/JSON map merged over the discovered facts")
      ->type_name("FILE");

  auto* types = app.add_subcommand("types", "list resource types");

  std::string describe_type;
  auto* describe = app.add_subcommand("describe", "attributes of a resource type");
  describe->add_option("TYPE", describe_type, "resource type")->required();

  std::string res_type, res_title, res_root = "/";
  auto* resource = app.add_subcommand("resource", "print current state as manifest YAML");
  resource->add_option("TYPE", res_type, "resource type")->required();
  resource->add_option("TITLE", res_title, "title (path, name, ...)");
  resource->add_option("--root", res_root, "read from the tree under DIR")
      ->type_name("DIR")
      ->capture_default_str();

  PullOptions pull_opts;
  std::string pull_state_dir;
  auto* pull = app.add_subcommand("pull", "fetch a config repo from git");
  pull->add_option("--git", pull_opts.url, "repository URL")->type_name("URL")->required();
  auto* pb = pull->add_option("--branch", pull_opts.branch, "branch")->type_name("BRANCH");
  pull->add_option("--ref", pull_opts.ref, "revision")->type_name("REV")->excludes(pb);
  pull->add_option("--dest", pull_opts.dest, "checkout area (default <state-dir>/repo)")
      ->type_name("DIR");
  pull->add_option("--state-dir", pull_state_dir, "state dir (default /var/lib/keel)")
      ->type_name("DIR");
  pull->add_option("--ssh-key", pull_opts.ssh_key, "private key for ssh:// URLs")
      ->type_name("FILE");
  pull->add_flag("--no-rewind", pull_opts.no_rewind,
                 "refuse a commit that does not descend from the last good one");
  pull->add_option("--lock-timeout", pull_opts.lock_timeout,
                   "wait up to S seconds for a run's lock")
      ->type_name("S")
      ->check(CLI::NonNegativeNumber);
  AddGitTrustOptions(pull, pull_opts.known_hosts, pull_opts.ca_file, pull_opts.verify_keys);

  std::string restore_path, restore_at, restore_root = "/", restore_state;
  auto* restore = app.add_subcommand("restore", "put back a file from the backup store");
  restore->add_option("PATH", restore_path, "path inside the root")->required();
  restore->add_option("--at", restore_at, "newest backup at or before TIME (RFC 3339 or prefix)")
      ->type_name("TIME");
  restore->add_option("--root", restore_root, "the managed tree")
      ->type_name("DIR")
      ->capture_default_str();
  restore->add_option("--state-dir", restore_state, "default <root>/var/lib/keel")
      ->type_name("DIR");

  auto* version =
      app.add_subcommand("version", "print the version, git commit and library versions");

  // Hidden (no group): the documents generated from this definition and the
  // type schemas, for the build (man page, completion) and for
  // docs/reference/types.md.
  std::string generate_what;
  auto* generate = app.add_subcommand("generate", "generated documentation")->group("");
  generate->add_option("WHAT", generate_what, "man, bash-completion or types-md")
      ->check(CLI::IsMember({"man", "bash-completion", "types-md"}))
      ->required();

  // -v/-q on the other commands too: one log level for every command.
  for (auto* sub : {facts, resource, pull, restore}) {
    sub->add_flag("-v,--verbose", run.verbose, "more output on stderr");
    sub->add_flag("-q,--quiet", run.quiet, "errors only on stderr");
  }

  // An unknown command: name it and offer the closest one ("keel aply").
  // keel's own options take no value, so the first word not starting with
  // '-' is the command.
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.empty() || word[0] == '-') continue;
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
      names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), word) != names.end()) break;
    std::string near = ClosestName(word, names);
    log::ErrorLine("unknown command '" + word + "'" +
                   (near.empty() ? std::string() : " (did you mean '" + near + "'?)") +
                   "; run 'keel --help' for the list");
    return kExitError;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors go to stderr through the log like every other error;
    // --help goes to stdout.
    std::ostringstream err;
    int code = app.exit(e, std::cout, err);
    std::string text = err.str();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (!text.empty()) log::ErrorLine(text);
    return code == 0 ? 0 : kExitError;
  }

  log::SetupLogging(run.verbose, run.quiet);
  if (apply->parsed()) return CmdApply(run, false);
  if (plan->parsed()) return CmdApply(run, true);
  if (validate->parsed()) return CmdValidate(run);
  if (graph->parsed()) return CmdGraph(run, graph_format);
  if (facts->parsed()) return CmdFacts(facts_root, facts_format, facts_file);
  if (types->parsed()) return CmdTypes();
  if (describe->parsed()) return CmdDescribe(describe_type);
  if (resource->parsed()) return CmdResource(res_type, res_title, res_root);
  if (pull->parsed()) return CmdPull(pull_opts, pull_state_dir);
  if (restore->parsed()) return CmdRestore(restore_path, restore_at, restore_root, restore_state);
  if (version->parsed()) {
    std::cout << VersionText();
    return 0;
  }
  if (generate->parsed()) {
    Registry reg;
    RegisterBuiltinTypes(reg);
    if (generate_what == "man") std::cout << ManPage(app, reg);
    if (generate_what == "bash-completion") std::cout << BashCompletion(app, reg);
    if (generate_what == "types-md") std::cout << TypeReferenceMarkdown(reg);
    return 0;
  }
  return kExitError;
}

}  // namespace keel::cli
