// Generated documentation (engine/cli/docgen.h). The words about run
// semantics, exit codes and files here are the short forms of the manual in
// docs/; the per-command and per-option text comes from the CLI11
// definition in engine/cli/commands.cc, the types from their schemas.
#include "engine/cli/docgen.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifndef KEEL_VERSION
#define KEEL_VERSION "0.0.0"
#endif

namespace keel::cli {
namespace {

std::string RoleName(AttrRole role) {
  switch (role) {
    case AttrRole::kNamevar:
      return "name attribute";
    case AttrRole::kParameter:
      return "parameter";
    case AttrRole::kProperty:
      return "property";
  }
  return "";
}

constexpr const char* kMetaparameters =
    "  require    ref(s): converge those first; if one fails, skip this one\n"
    "  before     ref(s): the reverse of require\n"
    "  notify     ref(s): like before, and refresh the target when this changes\n"
    "  subscribe  ref(s): the reverse of notify\n"
    "  tags       list: for --tags (the type name and manifest basename are added)\n"
    "  when       expression: declare the resource only when true\n"
    "  noop       bool: never change this resource, only report\n"
    "  sensitive  bool: show no values or diffs, only [redacted] and a sha256\n";

std::string FirstLine(const std::string& s) {
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

// The commands users see: hidden ones (empty group) are left out.
std::vector<const CLI::App*> Commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); });
}

std::vector<const CLI::Option*> Positionals(const CLI::App& cmd) {
  return cmd.get_options([](const CLI::Option* o) { return o->get_positional(); });
}

std::vector<const CLI::Option*> Flags(const CLI::App& cmd) {
  return cmd.get_options([](const CLI::Option* o) { return !o->get_positional(); });
}

// Flags expect no values (CLI11 sets expected(0) for them).
bool TakesValue(const CLI::Option* o) { return o->get_expected_max() != 0; }

// "--root, -v,--verbose": every name of an option.
std::vector<std::string> OptionNames(const CLI::Option* o) {
  std::vector<std::string> names;
  for (const auto& s : o->get_snames()) names.push_back("-" + s);
  for (const auto& l : o->get_lnames()) names.push_back("--" + l);
  return names;
}

// The fixed values of an option checked by CLI::IsMember: CLI11 shows them
// in its type name as "TEXT:{a,b}".
std::vector<std::string> Choices(const CLI::Option* o) {
  std::string t = o->get_type_name();
  auto open = t.find('{');
  auto close = t.find('}', open == std::string::npos ? 0 : open);
  std::vector<std::string> out;
  if (open == std::string::npos || close == std::string::npos) return out;
  std::stringstream in(t.substr(open + 1, close - open - 1));
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// The value placeholder without the validator part: "DIR", "N".
std::string ValueName(const CLI::Option* o) {
  std::string t = o->get_type_name();
  auto colon = t.find(':');
  if (colon != std::string::npos) t = t.substr(0, colon);
  return t;
}

std::string Synopsis(const CLI::App& cmd) {
  std::string s = "keel " + cmd.get_name();
  for (const auto* p : Positionals(cmd)) {
    std::string name = p->get_name(true, false);
    s += p->get_required() ? " " + name : " [" + name + "]";
  }
  bool required_option = false;
  for (const auto* o : Flags(cmd)) {
    if (!o->get_required()) continue;
    required_option = true;
    s += " " + OptionNames(o).back() + " " + ValueName(o);
  }
  if (Flags(cmd).size() > (required_option ? 2u : 1u)) s += " [options]";
  return s;
}

// --- roff -----------------------------------------------------------------

// Text for roff: backslashes escaped, '-' as \- (so it is a real minus in
// option names and copy-paste works), a leading '.' or '\'' made literal.
std::string Roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
    line_start = c == '\n';
  }
  return out;
}

// Longer words for a command than its one-line CLI11 description.
const std::map<std::string, std::string>& CommandNotes() {
  static const std::map<std::string, std::string> notes = {
      {"apply",
       "Loads PATH (a manifest, or a directory holding site.yaml; default ./site.yaml), builds "
       "the dependency graph and converges every resource, in order. Prints one line per "
       "resource that changed, failed or was skipped, then a summary line. Takes the run lock "
       "in the state directory, backs up every file it replaces and writes last_run.json."},
      {"plan",
       "A dry run: shows exactly what apply would change, with unified diffs, and changes "
       "nothing anywhere (no file, backup, lock or state is written). Each resource is checked "
       "against the state the resources before it would leave."},
      {"validate",
       "Loads the manifests, checks every type, attribute, reference and the graph, and prints "
       "the number of resources. Reads facts, but no resource state."},
      {"graph",
       "Prints the resource graph as Graphviz DOT (solid edges: require, dashed: notify, "
       "dotted: implicit), or as SVG through dot(1) with --format svg."},
      {"facts",
       "Prints the facts that manifests see as facts.* (YAML, or JSON with --format json)."},
      {"types", "Lists the resource types, one line each."},
      {"describe",
       "Prints every attribute of TYPE: kind, role, meaning, default and allowed values, then "
       "the metaparameters every type has."},
      {"resource",
       "Prints the current state of one resource as manifest YAML, ready to adopt an existing "
       "host: applying the output changes nothing."},
      {"pull",
       "Clones or fetches a config repository and checks out the branch tip or revision; the "
       "checkout is switched atomically."},
      {"restore",
       "Puts back a file from the backup store: by default the content from before the last "
       "keel run that changed it; with --at the newest backup at or before that time."},
      {"version", "Prints the version, the git commit of the build and the library versions."},
  };
  return notes;
}

}  // namespace

std::string DescribeText(const TypeSchema& s, bool with_metaparameters) {
  std::ostringstream out;
  out << s.name << ": " << s.doc << "\n\nAttributes:\n";
  for (const auto& a : s.attrs) {
    out << "  " << a.name << " (" << AttrKindName(a.kind) << ", " << RoleName(a.role);
    if (a.required) out << ", required";
    out << ")\n";
    if (!a.doc.empty()) out << "      " << a.doc << "\n";
    if (a.default_value) out << "      default: " << a.default_value->ToString() << "\n";
    if (!a.allowed.empty()) {
      out << "      allowed:";
      for (size_t i = 0; i < a.allowed.size(); ++i) out << (i ? ", " : " ") << a.allowed[i];
      out << "\n";
    }
  }
  if (with_metaparameters) out << "\nMetaparameters (every type):\n" << kMetaparameters;
  return out.str();
}

std::string TypeReferenceMarkdown(const Registry& registry) {
  std::ostringstream out;
  out << "# Resource type reference\n\n"
      << "<!-- Generated from the registered type schemas by `keel generate types-md`; do not\n"
      << "     edit. After changing a schema: build, then\n"
      << "     build/keel generate types-md > docs/reference/types.md -->\n\n"
      << "Every resource type keel " << KEEL_VERSION
      << " knows, with the text `keel describe TYPE` prints. The\n"
      << "[manual](../README.md) explains how resources are written and run; some types have a\n"
      << "page of their own in [docs/types/](../types/).\n\n"
      << "| type | manages |\n|---|---|\n";
  for (const auto* t : registry.All())
    out << "| [" << t->schema.name << "](#" << t->schema.name << ") | " << FirstLine(t->schema.doc)
        << " |\n";
  for (const auto* t : registry.All())
    out << "\n## " << t->schema.name << "\n\n```text\n"
        << DescribeText(t->schema, false) << "```\n";
  out << "\n## Metaparameters\n\nValid on every type:\n\n```text\n" << kMetaparameters << "```\n";
  return out.str();
}

std::string ManPage(const CLI::App& app, const Registry& registry) {
  std::ostringstream out;
  out << ".\\\" keel(1), generated by `keel generate man` from keel's command-line definition\n"
      << ".\\\" and its resource types; do not edit.\n"
      << ".TH KEEL 1 \"\" \"keel " << KEEL_VERSION << "\" \"User Commands\"\n"
      << ".SH NAME\nkeel \\- declarative host provisioning: converge a host or an image tree to "
         "YAML manifests\n"
      << ".SH SYNOPSIS\n";
  for (const auto* cmd : Commands(app)) out << ".B " << Roff(Synopsis(*cmd)) << "\n.br\n";
  out << ".B keel \\-\\-version\n.br\n.B keel \\-\\-help\n"
      << ".SH DESCRIPTION\n"
      << Roff(
             "keel describes the state of a Linux host, or of an image tree being built, in YAML "
             "manifests. It loads them into a catalog of resources (files, lines in files, "
             "shell variables, packages, services, kernel parameters, firewall rules, ...), "
             "orders them in a dependency graph and converges each one idempotently: a second "
             "apply changes nothing. A plan is an exact dry run that shows unified diffs and "
             "changes nothing anywhere. With --root DIR every command manages the tree under "
             "DIR as if it were /, never following a path outside it.")
      << "\n.PP\n"
      << Roff(
             "The manual is in /usr/share/doc/keel/docs/ (README.md there is its index): "
             "getting started, the manifest language, every resource type, run semantics, "
             "the JSON report and the safety guarantees. Ready examples are in "
             "/usr/share/doc/keel/examples/ and /usr/share/doc/keel/manifests/.")
      << "\n.SH COMMANDS\n";
  for (const auto* cmd : Commands(app)) {
    out << ".SS \"" << Roff(Synopsis(*cmd)) << "\"\n" << Roff(cmd->get_description()) << ".\n";
    auto note = CommandNotes().find(cmd->get_name());
    if (note != CommandNotes().end()) out << ".PP\n" << Roff(note->second) << "\n";
    for (const auto* o : Flags(*cmd)) {
      std::string names;
      for (const auto& n : OptionNames(o)) names += (names.empty() ? "" : ", ") + n;
      if (TakesValue(o))
        out << ".TP\n.BI \"" << Roff(names) << " \" " << Roff(ValueName(o)) << "\n";
      else
        out << ".TP\n.B " << Roff(names) << "\n";
      out << Roff(o->get_description());
      auto choices = Choices(o);
      if (!choices.empty()) {
        out << " (";
        for (size_t i = 0; i < choices.size(); ++i) out << (i ? ", " : "") << Roff(choices[i]);
        out << ")";
      }
      if (!o->get_default_str().empty() && TakesValue(o))
        out << "; default " << Roff(o->get_default_str());
      out << ".\n";
    }
  }
  out << ".SH RESOURCE TYPES\n"
      << Roff(
             "A resource is written as a map whose first key is its type and whose value is "
             "its title, and named type[title]. keel describe TYPE prints every attribute; "
             "/usr/share/doc/keel/docs/reference/types.md has them all.")
      << "\n";
  for (const auto* t : registry.All())
    out << ".TP\n.B " << Roff(t->schema.name) << "\n" << Roff(FirstLine(t->schema.doc)) << "\n";
  out << ".PP\nMetaparameters, valid on every type:\n.nf\n" << Roff(kMetaparameters) << ".fi\n";
  out << ".SH OUTPUT\n"
      << Roff(
             "apply and plan print one line per resource that changed, failed or was skipped, "
             "marked + created, - removed, ~ changed, * refreshed, ! failed, ? skipped; in a "
             "plan (and with -v) unified diffs follow; then a summary line: changed N, failed "
             "N, skipped N, unchanged N (S s). --format json prints the JSON report instead "
             "(its schema: /usr/share/doc/keel/docs/report.schema.json). Colour only on a "
             "terminal, unless --color says otherwise.")
      << "\n"
      << ".SH EXIT STATUS\n.TP\n.B 0\nsuccess.\n.TP\n.B 1\n"
      << Roff(
             "failures (a resource failed or was skipped), an invalid manifest, a usage error, "
             "or the lock held by another run.")
      << "\n.TP\n.B 130, 143\n"
      << Roff(
             "stopped by SIGINT or SIGTERM: no resource started after the signal, the running "
             "one finished, the report was written.")
      << "\n.PP\n"
      << Roff(
             "With --detailed-exitcodes: 0 nothing changed (plan: nothing would change), 2 "
             "changes (plan: changes pending), 4 failures, 6 changes and failures; an invalid "
             "manifest is still 1. A refresh counts as a change.")
      << "\n.SH ENVIRONMENT\n.TP\n.B NO_COLOR\n"
      << Roff("when set and not empty, no colour with --color auto.")
      << "\n.TP\n.B KEEL_NO_OPENAT2\n"
      << Roff(
             "1: resolve paths under --root by keel's own confined walk instead of "
             "openat2(RESOLVE_IN_ROOT) (for kernels and sandboxes without it).")
      << "\n.TP\n.B KEEL_ROOT\n"
      << Roff("set for exec commands run with chroot: false under --root: the root's path.")
      << "\n.SH FILES\n.TP\n.I ./site.yaml\nthe default manifest.\n.TP\n.I /var/lib/keel\n"
      << Roff(
             "the state directory (<root>/var/lib/keel under --root; --state-dir): lock (one "
             "run at a time), last_run.json (the last apply's report), backup/ and "
             "backup/index (replaced file contents, for keel restore), owed refreshes, repo/ "
             "(the config repository checkout of keel pull and apply --git).")
      << "\n.TP\n.I /usr/share/doc/keel/systemd/\n"
      << Roff(
             "keel.service and keel.timer: run keel apply --git on a timer with a random delay "
             "(a fleet).")
      << "\n.SH EXAMPLES\n.nf\n"
      << Roff(
             "keel plan site.yaml                       # what would change\n"
             "keel apply site.yaml                      # converge this host\n"
             "keel apply examples --root /srv/image      # build an image tree\n"
             "keel describe file                        # the attributes of a type\n"
             "keel resource file /etc/hosts             # adopt what exists\n"
             "keel apply --git URL --branch production   # from a config repository\n")
      << ".fi\n.SH SEE ALSO\n.BR dot (1),\n.BR git (1),\n.BR systemd.timer (5)\n";
  return out.str();
}

std::string BashCompletion(const CLI::App& app, const Registry& registry) {
  std::string commands, types;
  for (const auto* cmd : Commands(app)) commands += (commands.empty() ? "" : " ") + cmd->get_name();
  for (const auto* t : registry.All()) types += (types.empty() ? "" : " ") + t->schema.name;

  std::ostringstream opts, values, positionals, valued;
  for (const auto* cmd : Commands(app)) {
    const std::string& name = cmd->get_name();
    std::string all, takes;
    for (const auto* o : Flags(*cmd)) {
      for (const auto& n : OptionNames(o)) {
        all += (all.empty() ? "" : " ") + n;
        if (TakesValue(o)) takes += " " + n;
      }
      if (!TakesValue(o)) continue;
      std::string pattern;
      for (const auto& n : OptionNames(o)) pattern += (pattern.empty() ? "" : "|") + name + ":" + n;
      auto choices = Choices(o);
      std::string value = ValueName(o);
      if (!choices.empty()) {
        std::string words;
        for (const auto& c : choices) words += (words.empty() ? "" : " ") + c;
        values << "    " << pattern << ") _keel_words \"" << words << "\" ;;\n";
      } else if (value == "DIR") {
        values << "    " << pattern << ") _keel_dirs ;;\n";
      } else if (value == "FILE" || value == "PATH") {
        values << "    " << pattern << ") _keel_files ;;\n";
      } else {
        values << "    " << pattern << ") ;;\n";  // free text: nothing to offer
      }
    }
    opts << "    " << name << ") opts=\"" << all << "\" ;;\n";
    valued << "    " << name << ") valued=\"" << takes << " \" ;;\n";
    int index = 0;
    for (const auto* p : Positionals(*cmd)) {
      std::string pn = p->get_name(true, false);
      if (pn == "TYPE")
        positionals << "    " << name << ":" << index << ") _keel_words \"$types\" ;;\n";
      else if (pn == "PATH")
        positionals << "    " << name << ":" << index << ") _keel_files ;;\n";
      ++index;
    }
  }

  std::ostringstream out;
  out << "# bash completion for keel(1). Generated by `keel generate bash-completion` from\n"
      << "# keel's command-line definition and resource types; do not edit.\n"
      << "_keel_words() { mapfile -t COMPREPLY < <(compgen -W \"$1\" -- \"$cur\"); }\n"
      << "_keel_files() {\n"
      << "  compopt -o filenames 2>/dev/null\n"
      << "  mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
      << "}\n"
      << "_keel_dirs() {\n"
      << "  compopt -o filenames 2>/dev/null\n"
      << "  mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n"
      << "}\n"
      << "_keel() {\n"
      << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=\"\" cmd=\"\" opts=\"\" valued=\" \"\n"
      << "  local commands=\"" << commands << "\"\n"
      << "  local types=\"" << types << "\"\n"
      << "  COMPREPLY=()\n"
      << "  [ \"$COMP_CWORD\" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      << "  local i w npos=0 skip=0\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    w=${COMP_WORDS[i]}\n"
      << "    if [ -z \"$cmd\" ]; then\n"
      << "      case $w in -*) ;; *) cmd=$w\n"
      << "        case $cmd in\n"
      << valued.str() << "        esac ;;\n"
      << "      esac\n"
      << "      continue\n"
      << "    fi\n"
      << "    if [ $skip = 1 ]; then skip=0; continue; fi\n"
      << "    case $w in\n"
      << "      -*=*) ;;\n"
      << "      -*) case $valued in *\" $w \"*) skip=1 ;; esac ;;\n"
      << "      *) npos=$((npos + 1)) ;;\n"
      << "    esac\n"
      << "  done\n"
      << "  if [ -z \"$cmd\" ]; then\n"
      << "    case $cur in\n"
      << "      -*) _keel_words \"--help --help-all --version -V\" ;;\n"
      << "      *) _keel_words \"$commands\" ;;\n"
      << "    esac\n"
      << "    return 0\n"
      << "  fi\n"
      << "  if [ $skip = 1 ]; then\n"
      << "    case $cmd:$prev in\n"
      << values.str() << "    esac\n"
      << "    return 0\n"
      << "  fi\n"
      << "  case $cur in\n"
      << "    -*)\n"
      << "      case $cmd in\n"
      << opts.str() << "      esac\n"
      << "      _keel_words \"$opts --help\"\n"
      << "      return 0 ;;\n"
      << "  esac\n"
      << "  case $cmd:$npos in\n"
      << positionals.str() << "  esac\n"
      << "  return 0\n"
      << "}\n"
      << "complete -F _keel keel\n";
  return out.str();
}

}  // namespace keel::cli
