// The formats kernel_parameter edits, pure (strings in, strings out):
//  - a kernel command line ("ro root=/dev/sda1 quiet"): tokens split on
//    blanks (a double-quoted part keeps its blanks: foo="a b"), names
//    compared with '-' and '_' as equal (the kernel's own rule);
//  - /etc/default/grub (GRUB_CMDLINE_LINUX, grub2);
//  - /boot/grub/grub.conf (the kernel lines of grub legacy);
//  - grubby --info output and the grubby command that changes arguments.
// Every edit keeps every byte it does not have to change.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace keel::kparam {

/// What one resource wants: `name` present as a flag (value nullopt) or as
/// name=value, or absent (every occurrence removed).
struct Param {
  std::string name;
  std::optional<std::string> value;  // nullopt: a flag
  bool absent = false;
  /// "name" or "name=value".
  std::string Token() const { return value ? name + "=" + *value : name; }
};

/// True when `a` and `b` name the same parameter ('-' and '_' equal).
bool SameName(std::string_view a, std::string_view b);
/// The parameter name of a token (up to the first '=').
std::string_view NameOf(std::string_view token);

/// One token of a command line and where it is ([begin, end) in the line).
struct Token {
  size_t begin = 0, end = 0;
  std::string_view text;
};
/// Splits `line` on blanks (space, tab); a "..." part keeps its blanks.
std::vector<Token> Tokenize(std::string_view line);

/// What a command line says about `name`: nullopt when absent; else the
/// value of its LAST occurrence (the one the kernel ends up with), itself
/// nullopt for a flag.
std::optional<std::optional<std::string>> Lookup(std::string_view line, std::string_view name);

/// `line` edited for `want`:
///  - present: the first occurrence of the name becomes want.Token() (in
///    place), later occurrences go; with none, the token is appended after
///    the last token (blanks after it are kept);
///  - absent: every occurrence goes.
/// A removed token takes the blanks before it (after it, when first).
/// Other tokens and their spacing are kept. Returns `line` when satisfied.
std::string EditCmdline(std::string_view line, const Param& want);

// ---- /etc/default/grub ------------------------------------------------------

/// The variable keel edits (applies to every entry, recovery ones included).
inline constexpr const char* kCmdlineVar = "GRUB_CMDLINE_LINUX";
/// Also looked at: its tokens follow GRUB_CMDLINE_LINUX on normal entries,
/// so a conflicting occurrence there is removed (and absent removes there).
inline constexpr const char* kCmdlineDefaultVar = "GRUB_CMDLINE_LINUX_DEFAULT";

/// The arguments of the default entries: GRUB_CMDLINE_LINUX then
/// GRUB_CMDLINE_LINUX_DEFAULT, as the shell evaluates them. Errors: an
/// unterminated quote in either, or a value using shell expansion.
Result<std::string> DefaultGrubCmdline(std::string_view text);

/// `text` with GRUB_CMDLINE_LINUX edited for `want` (the last assignment,
/// in place, its quote style kept; appended as GRUB_CMDLINE_LINUX="..."
/// when there is none) and a conflicting occurrence removed from
/// GRUB_CMDLINE_LINUX_DEFAULT. Errors as DefaultGrubCmdline. Returns
/// `text` unchanged when satisfied.
Result<std::string> EditDefaultGrub(std::string_view text, const Param& want);
/// The same two on shared text (indexed, not copied; time linear in the
/// text): EditDefaultGrubText gives nullopt when `text` is satisfied.
Result<std::string> DefaultGrubCmdline(std::shared_ptr<const std::string> text);
Result<std::optional<std::string>> EditDefaultGrubText(std::shared_ptr<const std::string> text,
                                                       const Param& want);

// ---- /boot/grub/grub.conf (grub legacy) ------------------------------------

/// The argument part of each kernel line edited (all entries, or only the
/// one `default=N` names, counting `title` blocks from 0; no default line
/// means 0). Errors: no `title` entry with a kernel line; default= beyond
/// the entries, not a number (`saved`) when only the default is wanted.
struct KernelLine {
  size_t line = 0;   // index in the file's lines
  std::string args;  // the arguments after the kernel image
};
Result<std::vector<KernelLine>> KernelLines(std::string_view text, bool default_only);

/// `text` with those kernel lines edited by EditCmdline; every other byte
/// kept. Returns `text` when satisfied.
Result<std::string> EditGrubConf(std::string_view text, const Param& want, bool default_only);

// ---- grubby (BLS: RHEL 8+, Fedora) ---------------------------------------

/// One entry of `grubby --info=ALL` (or --info=DEFAULT).
struct GrubbyEntry {
  int index = -1;
  std::string kernel;
  std::string args;
  bool linux = true;  // false for "non linux entry"
};
/// Parses `grubby --info` output: `index=N` starts an entry, then
/// key=value lines (value in "..." on BLS grubby, bare on old grubby).
std::vector<GrubbyEntry> ParseGrubbyInfo(std::string_view text);

/// The grubby commands that make every entry (the arguments of each in
/// `entries_args`) satisfy `want`, run in order: grubby
/// --update-kernel=ALL|DEFAULT with --args=name[=value] (grubby replaces an
/// existing name=...) or --remove-args=name. A flag replacing name=x is two
/// commands, remove then add (grubby versions differ in the order they
/// apply both options of one call). Empty when every entry satisfies want.
std::vector<std::vector<std::string>> GrubbyCommands(const std::vector<std::string>& entries_args,
                                                     const Param& want, bool default_only);

}  // namespace keel::kparam
