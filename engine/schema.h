// Attribute schemas of resource types: kinds, defaults, allowed values, docs.
// Schemas are data; the loader validates every resource against its type's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/value.h"

namespace keel {

enum class AttrKind {
  kString,        // scalar; numbers and bools given in YAML are kept as their text
  kInt,           // integer, or a string of digits
  kBool,          // YAML true/false only ("yes" is an error)
  kList,          // list of scalars; a lone scalar is taken as a one-element list
  kStringOrList,  // a string, or a list of scalars (exec command, shellvar value)
  kMap,           // map of scalars or lists (modprobe options, ifcfg settings)
  kAbsPath,       // string that is an absolute path, stored normalised (NormalizeAbsPath)
  kMode,          // file mode: string of 3-4 octal digits ("0644")
  kAny,           // anything
};

enum class AttrRole {
  kProperty,   // state keel converges and reports in changes
  kParameter,  // tells how (path, backup, provider): never a change of its own
  kNamevar,    // identity; defaults to the title
};

/// "string", "integer", "bool", "list", "string or list", "map", "absolute path",
/// "mode", "any".
const char* AttrKindName(AttrKind kind);

struct AttrSpec {
  std::string name;
  AttrKind kind = AttrKind::kString;
  AttrRole role = AttrRole::kProperty;
  std::optional<Value> default_value;  // filled into Resource::attrs by PrepareResource
  std::vector<std::string> allowed;    // allowed values of a string attribute; empty = any
  bool required = false;
  std::string doc;
};

struct TypeSchema {
  std::string name;
  std::string doc;
  std::vector<AttrSpec> attrs;

  /// nullptr when the type has no such attribute.
  const AttrSpec* Find(std::string_view attr) const;
  /// The name attribute (role kNamevar); nullptr when the type has none.
  const AttrSpec* Namevar() const;
  std::vector<std::string> AttrNames() const;
};

/// Checks `value` against `spec` and returns it converted to the canonical
/// kind (an int given for a string becomes its text, a lone scalar for a
/// list becomes a list). Error message says what was expected, without place.
Result<Value> CoerceAttr(const AttrSpec& spec, const Value& value);

/// An absolute path in its one written form: "//" and "/./" collapse, ".."
/// drops the component before it (lexically, as Puppet and `realpath -m`
/// do), no trailing "/". "/etc/./own" and "/etc/../etc/own" are "/etc/own".
/// Every kAbsPath attribute is stored so, so identities, "two owners" and
/// implicit edges compare one form.
std::string NormalizeAbsPath(std::string_view path);

/// The candidate closest to `word` by edit distance, or "" when none is
/// close enough to be a plausible typo.
std::string ClosestName(std::string_view word, const std::vector<std::string>& candidates);

/// The metaparameters valid on every type (require, before, notify, subscribe,
/// tags, when, noop, sensitive).
const std::vector<std::string>& MetaParamNames();

}  // namespace keel
