// Reading manifest files for the loader (engine/manifest_loader.h): the
// state one load shares (options, result, manifests read so far), YAML file
// reading, positions in the file, YAML -> Value with {{ }} interpolation,
// `when`, and confinement of repo-relative paths to the config repo.
// Internal to the loader: callers use LoadManifests.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/expr.h"
#include "engine/manifest_loader.h"
#include "engine/yaml_tree.h"

namespace keel::loader {

constexpr int kMaxDepth = 512;
constexpr size_t kMaxNodesPerValue = 1'000'000;

using Entry = std::pair<yaml::Node, yaml::Node>;

/// One manifest (or hierarchy data file) as read.
struct Manifest {
  std::string display;    // as shown in messages
  std::string canonical;  // realpath, for cycle and repeat detection
  std::string real_dir;   // realpath of its directory (source/template base)
  std::string text;
  std::string tag;  // basename without .yaml
  bool parsed = false;
  std::unique_ptr<yaml::Document> doc;  // the nodes below; views into `text`
  yaml::Node vars, hierarchy, include, resources;
  yaml::Mark hierarchy_mark;
  bool include_first = false;    // `include` written before `resources`
  std::vector<size_t> children;  // manifests this one included, in order
  /// Parked: its nodes were freed after its vars and includes were read,
  /// the text kept; Unpark parses it again for its resources.
  bool parked = false;
  size_t resource_entries = 0;  // entries under `resources` (also while parked)
};

/// `path` is `dir` or below it (both absolute and normalised).
bool IsInside(const std::string& path, const std::string& dir);
/// realpath(3); "" on failure (errno set).
std::string RealPath(const std::string& p);
/// "a/b" joined with "c" -> "a/b/c"; an absolute `rel` stays as it is; the
/// result is lexically normalised ("./x" -> "x").
std::string JoinDisplay(const std::string& dir, const std::string& rel);
std::string DirOf(const std::string& display);
/// The text holds "{{": it is interpolated.
bool HasBraces(std::string_view s);

/// The shared state of one load and the reading of files and values. Errors
/// are collected in the result in the order found.
class ManifestReader {
 public:
  ManifestReader(const LoadOptions& options, LoadResult& out) : opts_(options), out_(out) {}

  const LoadOptions& options() const { return opts_; }
  LoadResult& out() { return out_; }

  /// Records an error (nothing while quiet).
  void Fail(SourceLoc loc, std::string message);
  /// While a Quiet lives, Fail records nothing (trial interpolation).
  class Quiet {
   public:
    explicit Quiet(ManifestReader& r) : r_(r) { ++r_.quiet_; }
    ~Quiet() { --r_.quiet_; }
    Quiet(const Quiet&) = delete;
    Quiet& operator=(const Quiet&) = delete;

   private:
    ManifestReader& r_;
  };

  SourceLoc Loc(const Manifest& m, const yaml::Mark& mark) const;
  /// Where offset `offset` of a scalar's value is in the file. Exact for
  /// plain scalars on one line and for literal blocks (`|`); for quoted
  /// scalars exact unless escapes or line breaks come before the offset;
  /// for folded blocks and multi-line plain scalars the line of the start.
  SourceLoc ScalarPlace(const Manifest& m, const yaml::Node& n, std::string_view value,
                        size_t offset) const;

  /// Reads and parses a manifest, checks its top-level keys. nullopt when
  /// it cannot be read or parsed (reported at `from` or in the file);
  /// otherwise its index (its `vars` are not read yet).
  std::optional<size_t> LoadFile(const std::string& display, const std::string& canonical,
                                 const SourceLoc& from);
  Manifest& manifest(size_t index) { return *manifests_[index]; }
  const Manifest& manifest(size_t index) const { return *manifests_[index]; }
  /// Frees the text and nodes of a manifest whose resources are built
  /// (its vars, hierarchy, include and resources become null).
  void Release(size_t index);
  /// A large repository's manifests are not all kept parsed at once: once
  /// more than kKeepParsed bytes of manifests were read, Park frees the
  /// nodes of a manifest whose vars and includes are read (they are ~3x
  /// its text: at 100,000 resources, 66 MB of nodes for 20 MB of YAML),
  /// and Unpark parses it again just before its resources are built.
  static constexpr size_t kKeepParsed = 4 << 20;
  bool ShouldPark() const { return text_read_ > kKeepParsed; }
  void Park(size_t index);
  void Unpark(size_t index);
  /// Frees the hierarchy data files (once the variables are resolved).
  void ReleaseDataFiles() { data_files_.clear(); }
  /// Index of a manifest read before, by realpath.
  std::optional<size_t> Find(const std::string& canonical) const;

  /// A YAML data file (hierarchy) kept for marks; its root node, or
  /// nullopt when it is not valid YAML (reported).
  std::optional<yaml::Node> LoadDataFile(const std::string& display, const std::string& path,
                                         Manifest*& data);

  /// The entries of a map with YAML merge keys (`<<: *defaults`) expanded.
  std::vector<Entry> Entries(const Manifest& m, const yaml::Node& map, int depth = 0);
  /// YAML -> Value, interpolating strings with `ctx`. False (reported) when
  /// a value does not interpolate or is too large.
  /// `cache` (optional) memoises expressions evaluated against this `ctx`.
  bool ConvertValue(const Manifest& m, const yaml::Node& n, const Value& ctx, Value& out,
                    ExprCache* cache = nullptr);
  /// The variable named by the first "undefined variable 'x'" error of the
  /// last ConvertValue ("" when none), recorded also while quiet.
  const std::string& last_undefined() const { return last_undefined_; }
  /// Evaluates a `when`; false (reported) when it is malformed.
  bool EvalWhen(const Manifest& m, const yaml::Node& n, const Value& ctx, bool& keep);

  /// The config repo: the directory of the entry manifest (realpath).
  const std::string& repo_dir() const { return repo_real_; }
  void set_repo_dir(std::string dir) { repo_real_ = std::move(dir); }
  /// A path attribute relative to manifest `m` (or absolute), confined to
  /// the config repo lexically and after symlinks. The real path, or
  /// nullopt (reported at `at`) when outside the repo or missing.
  std::optional<std::string> ResolveRepoPath(const Manifest& m, const std::string& attr,
                                             const std::string& given, const SourceLoc& at);

 private:
  /// Parses m.text into m.doc; reports syntax errors, nesting deeper than
  /// yaml::kMaxParseDepth and unterminated quoted scalars.
  std::optional<yaml::Node> ParseYaml(Manifest& m);
  bool Convert(const Manifest& m, const yaml::Node& n, const Value& ctx, Value& out, int depth,
               size_t& nodes, ExprCache* cache);

  const LoadOptions& opts_;
  LoadResult& out_;
  std::string repo_real_;
  std::vector<std::unique_ptr<Manifest>> manifests_;
  size_t text_read_ = 0;  // bytes of manifests read
  std::unordered_map<std::string, size_t> by_canonical_;
  std::vector<std::unique_ptr<Manifest>> data_files_;  // hierarchy files, kept for marks
  int quiet_ = 0;
  std::string last_undefined_;
};

}  // namespace keel::loader
