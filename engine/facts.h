// Facts of the managed system (SPEC 4), read through the Host so that
// --root reports the image's OS, not the build machine's.
#pragma once

#include <string>

#include "engine/host.h"
#include "engine/result.h"
#include "engine/value.h"

namespace keel {

/// Discovers every fact of SPEC 4. Never fails: an unknown fact gets a
/// neutral value ("unknown", "", []). Release numbers are strings.
Value GatherFacts(Host& host);

/// Merges a YAML/JSON file of facts over `facts` deeply (--facts FILE).
/// Error names the file (and line:col for a parse error).
Result<void> MergeFactsFile(Value& facts, const std::string& file);

/// Facts as JSON (stable key order as gathered) or YAML text.
std::string FactsToJson(const Value& facts);
std::string FactsToYaml(const Value& facts);

}  // namespace keel
