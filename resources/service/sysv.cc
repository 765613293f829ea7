// sysvinit half of the service type: /etc/init.d/<name> start|stop|status|
// restart, and the rcN.d S/K links chkconfig makes (init_header.h has the
// rules). Where the init scripts and rc directories are:
//  - /etc/init.d/<name>, else /etc/rc.d/init.d/<name> (RedHat keeps the real
//    directory there; /etc/init.d is a link to it).
//  - /etc/rcN.d, else /etc/rc.d/rcN.d; a missing one is created as
//    /etc/rc.d/rcN.d when /etc/rc.d exists, else as /etc/rcN.d.
//  - Links point at ../init.d/<name>, as chkconfig writes them: right from
//    both /etc/rcN.d and /etc/rc.d/rcN.d.
// Status: the script's `status` exit code (LSB: 0 running, 3 stopped); any
// other answer (1 dead with pid file, 2 dead with lock, 4 unknown, or a
// script without status) falls back to the pid file (`pidfile`, default
// /var/run/<name>.pid): running when it names a live process.
#include <cstdlib>

#include "resources/service/service_backends.h"

namespace keel::service {
namespace {

constexpr int kStatusTimeout = 30;
constexpr int kActionTimeout = 300;

HostPath P(const std::string& s) { return *HostPath::Parse(s); }

bool Exists(Host& host, const std::string& path, FileType type) {
  auto st = host.Stat(P(path));
  return st.ok() && st->type == type;
}

/// The pid in a pid file's first line; 0 when none.
long PidOf(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  long pid = 0;
  size_t b = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - b < 9)
    pid = pid * 10 + (text[i++] - '0');
  return pid;
}

}  // namespace

Command SysvAction(const SysvState& st, const std::string& action) {
  return Command{.argv = {st.script, action}, .timeout_s = kActionTimeout};
}

Result<bool> SysvRunning(const Resource& want, Host& host, const SysvState& st) {
  if (!st.script_exists) return false;
  Command c = SysvAction(st, "status");
  c.timeout_s = kStatusTimeout;
  c.query = true;
  auto r = host.Run(c);
  if (!r.ok()) return r.error().Context("running " + c.Display());
  if (r->timed_out)
    return MakeError(ErrorCode::kTimeout,
                     c.Display() + " timed out after " + std::to_string(kStatusTimeout) + " s");
  if (r->exit_code == 0) return true;
  if (r->exit_code == 3) return false;
  std::string pidfile = want.GetString("pidfile");
  if (pidfile.empty()) pidfile = "/var/run/" + want.GetString("name") + ".pid";
  auto text = host.ReadFile(P(pidfile));
  if (!text.ok() || !text->has_value()) return false;
  long pid = PidOf(**text);
  if (pid <= 0) return false;
  auto proc = host.Stat(P("/proc/" + std::to_string(pid)));
  return proc.ok() && proc->type == FileType::kDirectory;
}

Result<void> SysvObserve(const Resource& want, Host& host, State& st) {
  const std::string name = want.GetString("name");
  SysvState& s = st.sysv;
  s.script = "/etc/init.d/" + name;
  if (!Exists(host, s.script, FileType::kFile) &&
      Exists(host, "/etc/rc.d/init.d/" + name, FileType::kFile))
    s.script = "/etc/rc.d/init.d/" + name;
  auto text = host.ReadFile(P(s.script));
  if (!text.ok()) return text.error().Context("reading " + s.script);
  s.script_exists = text->has_value();
  if (s.script_exists) {
    auto h = initscript::ParseHeader(**text);
    if (h.ok())
      s.header = *h;
    else
      s.header_error = h.error().message;
  } else {
    s.header_error = "no init script " + s.script;
  }
  const bool rc_d = Exists(host, "/etc/rc.d", FileType::kDirectory);
  for (int l = 0; l <= 6; ++l) {
    std::string plain = "/etc/rc" + std::to_string(l) + ".d";
    std::string red = "/etc/rc.d/rc" + std::to_string(l) + ".d";
    if (Exists(host, plain, FileType::kDirectory)) {
      s.rc_dirs[l] = plain;
    } else if (Exists(host, red, FileType::kDirectory)) {
      s.rc_dirs[l] = red;
    } else {
      s.rc_dirs[l] = rc_d ? red : plain;
      continue;
    }
    s.rc_dir_exists[l] = true;
    auto names = host.ListDir(P(s.rc_dirs[l]));
    if (!names.ok()) return names.error().Context("listing " + s.rc_dirs[l]);
    for (const auto& n : *names) {
      auto link = initscript::ParseLinkName(n, name);
      if (!link) continue;
      s.entries[l].push_back(n);
      if (link->kind == 'S') s.on_levels |= 1u << l;
    }
  }
  s.chkconfig = HasProgram(host, "chkconfig");
  if (st.live) {
    auto running = SysvRunning(want, host, s);
    if (!running.ok()) return running.error();
    st.running = *running;
  }
  return {};
}

namespace {

/// chkconfig itself: register the script, then on in the enable levels and
/// off in the others (or off everywhere).
Result<void> RunChkconfig(const std::string& name, const SysvState& s, bool enable, Host& host) {
  unsigned on = enable ? s.EnableLevels() : 0u;
  std::vector<Command> cmds;
  cmds.push_back(Command{.argv = {"chkconfig", "--add", name}, .timeout_s = 60});
  if (on)
    cmds.push_back(Command{.argv = {"chkconfig", "--level", initscript::LevelsText(on), name, "on"},
                           .timeout_s = 60});
  if (unsigned off = 0x7fu & ~on)
    cmds.push_back(
        Command{.argv = {"chkconfig", "--level", initscript::LevelsText(off), name, "off"},
                .timeout_s = 60});
  for (const auto& c : cmds) {
    auto r = RunChecked(host, c, "service[" + name + "]: chkconfig");
    if (!r.ok()) return r.error();
  }
  return {};
}

}  // namespace

Result<void> SysvSetEnabled(const Resource& want, const State& st, bool enable, Host& host,
                            Outcome& out) {
  const std::string name = want.GetString("name");
  const SysvState& s = st.sysv;
  if (!s.header) {
    // A package the plan would install brings the script: say so instead
    // of failing the plan.
    if (host.dry_run() && !s.script_exists) {
      out.message =
          "would " + std::string(enable ? "enable" : "disable") + " once " + s.script + " exists";
      return {};
    }
    if (!s.script_exists) return MakeError(ErrorCode::kNotFound, "no init script " + s.script);
    return MakeError(ErrorCode::kInvalid, s.script + ": " + s.header_error);
  }
  if (s.chkconfig) return RunChkconfig(name, s, enable, host);
  auto wanted = initscript::WantedLinks(*s.header, enable);
  const std::string target = "../init.d/" + name;
  for (int l = 0; l <= 6; ++l) {
    const std::string& dir = s.rc_dirs[l];
    if (!s.rc_dir_exists[l]) {
      auto made = MakeParents(host, P(dir + "/x"));
      if (!made.ok()) return made.error().Context("creating " + dir);
    }
    const std::string keep = wanted[l].Text(name);
    for (const auto& e : s.entries[l]) {
      if (e == keep) continue;
      auto rm = host.Remove(P(dir + "/" + e), false, false);
      if (!rm.ok()) return rm.error().Context("removing " + dir + "/" + e);
    }
    auto have = host.Lstat(P(dir + "/" + keep));
    if (!have.ok()) return have.error().Context("checking " + dir + "/" + keep);
    if (have->type == FileType::kSymlink && have->link_target == target) continue;
    auto ln = host.Symlink(P(dir + "/" + keep), target);
    if (!ln.ok()) return ln.error().Context("linking " + dir + "/" + keep);
  }
  return {};
}

}  // namespace keel::service
