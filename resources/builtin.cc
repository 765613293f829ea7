// One line per resource type; explicit registration, no static initialisers.
#include "resources/builtin.h"

#include "engine/registry.h"

namespace keel {

void RegisterBuiltinTypes(Registry& r) {
  RegisterFile(r);
  RegisterExec(r);
  RegisterHost(r);
  RegisterMount(r);
  RegisterSysctl(r);
  RegisterModprobe(r);
  RegisterLine(r);
  RegisterShellvar(r);
  RegisterIfcfg(r);
  RegisterKernelParameter(r);
  RegisterAuditRule(r);
  RegisterService(r);
  RegisterFirewall(r);
  RegisterPackage(r);
}

}  // namespace keel
