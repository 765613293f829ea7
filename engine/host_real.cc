// PLACEHOLDER until the root-confined host lands (owned by the host helper).
#include "engine/host_real.h"

namespace keel {

Result<std::unique_ptr<Host>> OpenRealHost(const std::string&, BackupSink*) {
  return MakeError(ErrorCode::kUnsupported, "real host not implemented yet");
}

std::unique_ptr<Host> MakeOverlayHost(Host&) { return nullptr; }

}  // namespace keel
