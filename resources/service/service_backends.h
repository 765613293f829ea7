// The two halves of the service provider (resources/service/service.cc):
// sysvinit (/etc/init.d scripts and rcN.d links, sysv.cc) and systemd
// (systemctl, systemd.cc). Each observes into State, which the provider
// stores in the Observation, and acts from it. All I/O goes through Host.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "engine/host.h"
#include "engine/provider.h"
#include "engine/resource.h"
#include "engine/result.h"
#include "resources/service/init_header.h"

namespace keel::service {

struct SysvState {
  std::string script;  // /etc/init.d/<name> (or /etc/rc.d/init.d/<name>)
  bool script_exists = false;
  std::optional<initscript::Header> header;  // nullopt: see header_error
  std::string header_error;
  std::array<std::string, 7> rc_dirs;  // where level N's links live
  std::array<bool, 7> rc_dir_exists{};
  std::array<std::vector<std::string>, 7> entries;  // the name's S/K entries per level
  unsigned on_levels = 0;                           // levels holding an S entry
  bool chkconfig = false;                           // the root has chkconfig
  /// The levels enabling starts in (header's, 2345 without a header).
  unsigned EnableLevels() const { return header ? header->EnableLevels() : 0x3cu; }
  bool Enabled() const { return (on_levels & EnableLevels()) == EnableLevels(); }
};

struct State {
  bool systemd = false;
  bool live = false;
  std::optional<bool> running;  // observed on live hosts only
  SysvState sysv;
  std::string unit_state;  // systemd: `systemctl is-enabled` answer ("" = none)
};

/// Is the name's daemon running? "status" is a query in dry runs too.
Result<bool> SysvRunning(const Resource& want, Host& host, const SysvState& st);
/// Fills st.sysv (script, header, rc links); never changes the host.
Result<void> SysvObserve(const Resource& want, Host& host, State& st);
/// Makes the rcN.d links of `enable` (chkconfig itself when the root has it).
Result<void> SysvSetEnabled(const Resource& want, const State& st, bool enable, Host& host,
                            Outcome& out);
/// `<script> <action>` (start, stop, restart).
Command SysvAction(const SysvState& st, const std::string& action);

/// `systemctl is-active` answered 0.
Result<bool> SystemdRunning(const Resource& want, Host& host);
/// Fills st.unit_state (`systemctl [--root=DIR] is-enabled`).
Result<void> SystemdObserve(const Resource& want, Host& host, State& st);
/// True for is-enabled answers that mean "starts at boot".
bool SystemdEnabled(const std::string& unit_state);
/// True for is-enabled answers enable/disable cannot change (static, ...).
bool SystemdFixed(const std::string& unit_state);
Result<void> SystemdSetEnabled(const Resource& want, bool enable, Host& host);
/// `systemctl <action> <name>` (start, stop, restart).
Command SystemdAction(const Resource& want, const std::string& action);

/// The unit name systemctl is given: the name, with ".service" added when
/// it has no unit suffix.
std::string UnitName(const std::string& name);

}  // namespace keel::service
