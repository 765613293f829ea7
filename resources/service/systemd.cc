// systemd half of the service type: systemctl start|stop|restart|enable|
// disable, `is-active` and `is-enabled` as queries. Under --root the build
// machine's systemctl works on the tree with --root=DIR (it makes and
// removes the [Install] symlinks itself, offline); it runs on the host
// (chroot: false), since an image need not hold a runnable systemctl.
#include "resources/service/service_backends.h"

namespace keel::service {
namespace {

constexpr int kQueryTimeout = 30;
constexpr int kActionTimeout = 300;

Command Systemctl(Host& host, std::vector<std::string> args) {
  Command c;
  c.argv = {"systemctl"};
  if (!host.live()) {
    c.argv.push_back("--root=" + host.root());
    c.chroot = false;
  }
  for (auto& a : args) c.argv.push_back(std::move(a));
  c.timeout_s = kActionTimeout;
  return c;
}

std::string FirstLine(const std::string& text) {
  std::string s = text.substr(0, text.find('\n'));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  return s;
}

}  // namespace

std::string UnitName(const std::string& name) {
  for (const char* suffix : {".service", ".socket", ".timer", ".target", ".path", ".mount"})
    if (name.ends_with(suffix)) return name;
  return name + ".service";
}

Command SystemdAction(const Resource& want, const std::string& action) {
  return Command{.argv = {"systemctl", action, UnitName(want.GetString("name"))},
                 .timeout_s = kActionTimeout};
}

Result<bool> SystemdRunning(const Resource& want, Host& host) {
  Command c{.argv = {"systemctl", "is-active", UnitName(want.GetString("name"))},
            .timeout_s = kQueryTimeout,
            .query = true};
  auto r = host.Run(c);
  if (!r.ok()) return r.error().Context("running " + c.Display());
  if (r->timed_out)
    return MakeError(ErrorCode::kTimeout,
                     c.Display() + " timed out after " + std::to_string(kQueryTimeout) + " s");
  return r->exit_code == 0;
}

bool SystemdEnabled(const std::string& s) { return s == "enabled" || s == "enabled-runtime"; }

bool SystemdFixed(const std::string& s) {
  return s == "static" || s == "indirect" || s == "generated" || s == "transient" || s == "alias";
}

Result<void> SystemdObserve(const Resource& want, Host& host, State& st) {
  Command c = Systemctl(host, {"is-enabled", UnitName(want.GetString("name"))});
  c.timeout_s = kQueryTimeout;
  c.query = true;
  auto r = host.Run(c);
  if (!r.ok()) return r.error().Context("running " + c.Display());
  if (r->timed_out)
    return MakeError(ErrorCode::kTimeout,
                     c.Display() + " timed out after " + std::to_string(kQueryTimeout) + " s");
  // A unit systemctl does not know answers on stderr with an empty stdout.
  st.unit_state = FirstLine(r->out);
  if (st.live) {
    auto running = SystemdRunning(want, host);
    if (!running.ok()) return running.error();
    st.running = *running;
  }
  return {};
}

Result<void> SystemdSetEnabled(const Resource& want, bool enable, Host& host) {
  Command c = Systemctl(host, {enable ? "enable" : "disable", UnitName(want.GetString("name"))});
  auto r = RunChecked(host, c, "service[" + want.title() + "]");
  if (!r.ok()) return r.error();
  return {};
}

}  // namespace keel::service
