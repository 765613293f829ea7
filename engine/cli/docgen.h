// Documentation generated from what keel itself knows: the registered type
// schemas and the command-line definition (CLI11). `keel describe`, the
// checked-in type reference (docs/reference/types.md), the man page keel(1)
// and the bash completion all come from here, so none can drift from the
// binary (tests/cli/docs_reference.sh, man and completion tests).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "engine/registry.h"
#include "engine/schema.h"

namespace keel::cli {

/// The text of `keel describe TYPE`: the type's doc, then each attribute
/// with kind, role, doc, default and allowed values; the metaparameters
/// when `with_metaparameters`.
std::string DescribeText(const TypeSchema& schema, bool with_metaparameters);

/// docs/reference/types.md: an index of every registered type, then each
/// type's describe text, then the metaparameters once.
std::string TypeReferenceMarkdown(const Registry& registry);

/// keel(1) in roff (man -l): a section per command with its options (from
/// `app`), the resource types, exit status, environment, files.
std::string ManPage(const CLI::App& app, const Registry& registry);

/// A bash completion script for `keel`: commands, each command's options,
/// the values of options with a fixed set, type names for describe and
/// resource, file names where a path is expected, directories for DIR.
std::string BashCompletion(const CLI::App& app, const Registry& registry);

}  // namespace keel::cli
