// What an init script says about its runlevels, pure (text in, structure
// out), read the way chkconfig reads it, and the rcN.d links chkconfig makes
// from it. The rules, in our words (learned from fedora-sysv/chkconfig):
//  - Only comment lines count ('#' after optional blanks). A line
//    `# chkconfig: LEVELS START STOP` gives the start levels (digits 0-6,
//    or `-` for none) and the two priorities (0-99). A malformed chkconfig
//    line makes the script unmanageable.
//  - A `### BEGIN INIT INFO` line marks an LSB script. `Default-Start:`
//    adds its levels to the start levels, `Default-Stop:` removes its own.
//  - Reading stops once the levels and a description (`description`,
//    `Description:`, `Short-Description:`) are both known: an LSB block
//    after a complete chkconfig header is not read (CentOS firstboot).
//  - A script without a chkconfig line needs an LSB block; chkconfig then
//    uses the priorities S50/K50 (before its LSB dependency reordering,
//    which keel does not redo; with chkconfig in the root keel runs it).
//  - Links are /etc/rcN.d/S<NN><name> in the start levels and
//    /etc/rcN.d/K<NN><name> in the other levels of 0-6, NN two digits, each
//    pointing at ../init.d/<name>. When the start levels are empty (`-`),
//    enabling starts in 2345, as `chkconfig NAME on` does. Disabling puts a
//    K link in every level (what `chkconfig --add` + `chkconfig off` leave).
//  - A level counts as "on" when any S<NN><name> entry is in its rc dir
//    (whatever the priority); the service is enabled when every start level
//    is on.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace keel::initscript {

struct Header {
  unsigned levels = 0;  // start levels as bits (1 << N), 0 = `-` / none
  int start_priority = 50;
  int stop_priority = 50;
  bool chkconfig = false;  // from a `# chkconfig:` line
  bool lsb = false;        // a `### BEGIN INIT INFO` block was read
  /// The levels enabling puts S links in: `levels`, or 2345 when none.
  unsigned EnableLevels() const { return levels ? levels : 0x3cu; }
};

/// Reads the header of an init script. Error (kInvalid) when the script has
/// neither a usable chkconfig line nor an LSB block with levels, or when its
/// chkconfig line is malformed; the message says which.
Result<Header> ParseHeader(std::string_view script);

/// Parses "2345" into level bits; nullopt when a character is not 0-6.
std::optional<unsigned> ParseLevels(std::string_view text);
/// "2345" for the bits of levels 2-5; "-" for none.
std::string LevelsText(unsigned levels);

/// When `entry` (a name in an rc dir) is a link name of service `name`
/// (S or K, two digits, then exactly the name): its kind ('S' or 'K') and
/// priority. nullopt otherwise.
struct LinkName {
  char kind = 'S';
  int priority = 0;
  /// "S13rngd".
  std::string Text(std::string_view name) const;
};
std::optional<LinkName> ParseLinkName(std::string_view entry, std::string_view name);

/// The link chkconfig leaves in each level 0-6 for `enable`.
std::vector<LinkName> WantedLinks(const Header& h, bool enable);

/// True when `name` can be an init script / unit name: not empty, at most
/// 200 bytes, no '/', no control characters or blanks, not "." / "..",
/// not starting with '-' or '.'.
bool ValidServiceName(std::string_view name);

}  // namespace keel::initscript
