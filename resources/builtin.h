// Registration functions of the built-in types, one per type.
#pragma once

#include "engine/registry.h"

namespace keel {

void RegisterFile(Registry& r);
void RegisterExec(Registry& r);
void RegisterLine(Registry& r);
void RegisterShellvar(Registry& r);
void RegisterIfcfg(Registry& r);
void RegisterHost(Registry& r);
void RegisterMount(Registry& r);
void RegisterSysctl(Registry& r);
void RegisterModprobe(Registry& r);
void RegisterKernelParameter(Registry& r);
void RegisterAuditRule(Registry& r);
void RegisterService(Registry& r);
void RegisterFirewall(Registry& r);  // iptables_rule, iptables_chain
void RegisterPackage(Registry& r);

}  // namespace keel
