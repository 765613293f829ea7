// service: whether a daemon runs now (ensure) and at boot (enable), through
// systemd or sysvinit (SPEC 3.9). The halves are in systemd.cc and sysv.cc.
//
// Choices (README "Design choices"):
//  - ensure and enable are managed only when written: a service with just
//    `enable: false` is never started or stopped.
//  - provider auto follows facts.init (systemd|sysvinit).
//  - Status is observed on every Read, never assumed from having run
//    start: status commands are queries and run in dry runs too.
//  - Under --root (host not live) only enable is managed: ensure is neither
//    observed nor reported, nothing is started, no warning is given.
//  - Apply changes enable first, then ensure.
//  - A refresh restarts the service when it runs (with `restart` when
//    given), starts it when it is stopped and ensure is running, and does
//    nothing otherwise. A service Apply started in this run is not restarted
//    again by a refresh of the same run (it already runs the new config).
//  - sysvinit enable false with S links in some levels only reports the
//    change from "partly".
#include <mutex>
#include <set>

#include "engine/host.h"
#include "engine/provider.h"
#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/service/init_header.h"
#include "resources/service/service_backends.h"

namespace keel {
namespace {

using service::State;

TypeSchema Schema() {
  return {
      .name = "service",
      .doc = "A daemon: running or stopped now, started at boot or not (systemd or sysvinit).",
      .attrs =
          {
              {.name = "name",
               .role = AttrRole::kNamevar,
               .doc = "The service: init script /etc/init.d/<name>, or systemd unit <name> "
                      "(.service added when no suffix). Defaults to the title."},
              {.name = "ensure",
               .allowed = {"running", "stopped"},
               .doc = "running or stopped now (live hosts only; not managed under --root). "
                      "Unmanaged when not given."},
              {.name = "enable",
               .kind = AttrKind::kBool,
               .doc = "Started at boot: systemd [Install] links, or the rcN.d S/K links "
                      "chkconfig makes from the init script's header. Unmanaged when not given."},
              {.name = "provider",
               .role = AttrRole::kParameter,
               .default_value = Value("auto"),
               .allowed = {"auto", "systemd", "sysvinit"},
               .doc = "auto follows facts.init."},
              {.name = "restart",
               .role = AttrRole::kParameter,
               .doc = "Command (run with /bin/sh -c) a refresh restarts the service with, "
                      "instead of `<script> restart` / `systemctl restart`."},
              {.name = "pidfile",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .doc = "sysvinit: the pid file checked when `status` answers neither 0 "
                      "(running) nor 3 (stopped). Default /var/run/<name>.pid."},
          },
  };
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  std::string name = r.GetString("name");
  if (!initscript::ValidServiceName(name))
    problems.push_back(
        {"name", "service name '" + name +
                     "' is not a valid init script or unit name (no '/', blanks or control "
                     "characters, not starting with '-' or '.')"});
  if (r.Has("restart") && r.GetString("restart").empty())
    problems.push_back({"restart", "restart must not be empty"});
}

bool UseSystemd(const Resource& want, RunContext& ctx) {
  std::string p = want.GetString("provider", "auto");
  if (p != "auto") return p == "systemd";
  const Value* init = ctx.facts.Get("init");
  return init && init->is_string() && init->as_string() == "systemd";
}

class ServiceProvider : public Provider {
 public:
  Result<Observation> Read(const Resource& want, Host& host, RunContext& ctx) override {
    Observation have;
    State& st = have.SetState(State{});
    st.systemd = UseSystemd(want, ctx);
    st.live = host.live();
    auto obs =
        st.systemd ? service::SystemdObserve(want, host, st) : service::SysvObserve(want, host, st);
    if (!obs.ok()) return obs.error();
    if (st.running) have.Set("ensure", Value(*st.running ? "running" : "stopped"));
    if (st.systemd) {
      if (!service::SystemdFixed(st.unit_state))
        have.Set("enable", Value(service::SystemdEnabled(st.unit_state)));
    } else {
      have.Set("enable", Value(st.sysv.Enabled()));
    }
    return have;
  }

  std::vector<Change> Diff(const Resource& want, const Observation& have,
                           RunContext& ctx) override {
    (void)ctx;
    std::vector<Change> out;
    const State* st = have.State<State>();
    if (!st) return AttrDiff(want, have);
    if (want.Has("enable")) {
      bool w = want.GetBool("enable", false);
      if (st->systemd) {
        if (!service::SystemdFixed(st->unit_state) && service::SystemdEnabled(st->unit_state) != w)
          out.push_back({"enable", Value(!w), Value(w), ""});
      } else {
        const auto& s = st->sysv;
        bool all = s.Enabled();
        bool any = s.on_levels != 0;
        if (w && !all)
          out.push_back({"enable", any ? Value("partly") : Value(false), Value(w), ""});
        if (!w && any) out.push_back({"enable", all ? Value(true) : Value("partly"), Value(w), ""});
      }
    }
    if (want.Has("ensure") && st->live) DiffProperty(out, have, "ensure", *want.Get("ensure"));
    return out;
  }

  Result<void> Apply(const Resource& want, const Observation& have, std::span<const Change> changes,
                     Host& host, RunContext& ctx, Outcome& out) override {
    (void)ctx;
    const State* st = have.State<State>();
    if (!st) return MakeError(ErrorCode::kInternal, "service: Apply without Read");
    for (const auto& c : changes) {
      if (c.attr != "enable") continue;
      bool enable = c.to && c.to->is_bool() && c.to->as_bool();
      auto r = st->systemd ? service::SystemdSetEnabled(want, enable, host)
                           : service::SysvSetEnabled(want, *st, enable, host, out);
      if (!r.ok()) return r.error();
    }
    for (const auto& c : changes) {
      if (c.attr != "ensure" || !st->live) continue;
      bool start = c.to && c.to->ToString() == "running";
      auto r = RunChecked(host, Action(want, *st, start ? "start" : "stop"),
                          want.id() + ": " + (start ? "starting" : "stopping"));
      if (!r.ok()) return r.error();
      if (start && !host.dry_run()) {
        std::lock_guard<std::mutex> lock(mu_);
        started_.insert(want.id());
      }
    }
    return {};
  }

  Result<void> Refresh(const Resource& want, Host& host, RunContext& ctx, Outcome& out) override {
    if (!host.live()) {
      out.message = "not restarted: not a live host";
      return {};
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (started_.count(want.id())) {
        out.message = "started in this run; not restarted";
        return {};
      }
    }
    // Observe now: the state may have changed since Read.
    State st;
    st.systemd = UseSystemd(want, ctx);
    st.live = true;
    auto obs =
        st.systemd ? service::SystemdObserve(want, host, st) : service::SysvObserve(want, host, st);
    if (!obs.ok()) return obs.error();
    Command c;
    if (st.running.value_or(false)) {
      if (want.Has("restart"))
        c.shell = want.GetString("restart");
      else
        c = Action(want, st, "restart");
      out.message = "restarted";
    } else if (want.GetString("ensure") == "running") {
      c = Action(want, st, "start");
      out.message = "started (was not running)";
    } else {
      out.message = "not running; not restarted";
      return {};
    }
    auto r = RunChecked(host, c, want.id() + ": refresh");
    if (!r.ok()) return r.error();
    return {};
  }

 private:
  static Command Action(const Resource& want, const State& st, const std::string& action) {
    return st.systemd ? service::SystemdAction(want, action) : service::SysvAction(st.sysv, action);
  }

  std::mutex mu_;
  std::set<std::string> started_;  // ids of services Apply started in this run
};

}  // namespace

void RegisterService(Registry& r) {
  TypeInfo info;
  info.schema = Schema();
  info.make_provider = [] { return std::make_unique<ServiceProvider>(); };
  info.validate = Validate;
  info.uses = [](const Resource& res) {
    std::string name = res.GetString("name");
    std::vector<std::string> out;
    if (!initscript::ValidServiceName(name)) return out;
    std::string unit = service::UnitName(name);
    out.push_back("/etc/init.d/" + name);
    out.push_back("/etc/systemd/system/" + unit);
    out.push_back("/usr/lib/systemd/system/" + unit);
    out.push_back("/lib/systemd/system/" + unit);
    return out;
  };
  info.requires_same_name = {"package"};
  r.Add(std::move(info));
}

}  // namespace keel
