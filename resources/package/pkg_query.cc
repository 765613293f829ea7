#include "resources/package/pkg_query.h"

#include "resources/package/pkg_version.h"

namespace keel::pkg {
namespace {

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return out;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

void Add(InstalledSet& set, Family family, std::string name, std::string version,
         std::string arch) {
  auto [it, fresh] = set.try_emplace(std::move(name));
  if (fresh || Compare(family, version, it->second.version) > 0)
    it->second.version = std::move(version);
  it->second.arches.push_back(std::move(arch));
}

std::string NormaliseEpoch(std::string_view evr) {
  if (evr.substr(0, 7) == "(none):") return "0:" + std::string(evr.substr(7));
  return std::string(evr);
}

Error BadLine(const char* what, size_t n, std::string_view line) {
  std::string shown(line.substr(0, 120));
  return MakeError(ErrorCode::kInvalid, std::string(what) + " output line " + std::to_string(n) +
                                            " is not 'name<TAB>version<TAB>...': '" + shown + "'");
}

}  // namespace

const Installed* FindInstalled(const InstalledSet& set, Family family, const std::string& name) {
  if (auto it = set.find(name); it != set.end()) return &it->second;
  size_t cut = family == Family::kDeb ? name.rfind(':') : name.rfind('.');
  if (cut == std::string::npos || cut == 0) return nullptr;
  const std::string arch = name.substr(cut + 1);
  if (family == Family::kRpm) {
    static const char* const kArches[] = {"x86_64",  "i686",  "i386",    "noarch", "aarch64",
                                          "ppc64le", "s390x", "armv7hl", "src"};
    bool known = false;
    for (const char* a : kArches) known = known || arch == a;
    if (!known) return nullptr;
  }
  auto it = set.find(name.substr(0, cut));
  if (it == set.end()) return nullptr;
  for (const auto& a : it->second.arches)
    if (a == arch) return &it->second;
  return nullptr;
}

Result<InstalledSet> ParseDpkgQuery(std::string_view text) {
  InstalledSet set;
  size_t n = 0;
  for (std::string_view line : Lines(text)) {
    ++n;
    if (line.empty()) continue;
    auto f = SplitTabs(line);
    if (f.size() != 4 || f[0].empty()) return BadLine("dpkg-query", n, line);
    std::string_view status = f[2];
    if (status.size() < 2 || status[1] != 'i') continue;
    Add(set, Family::kDeb, std::string(f[0]), std::string(f[1]), std::string(f[3]));
  }
  return set;
}

Result<InstalledSet> ParseRpmQuery(std::string_view text) {
  InstalledSet set;
  size_t n = 0;
  for (std::string_view line : Lines(text)) {
    ++n;
    if (line.empty()) continue;
    auto f = SplitTabs(line);
    if (f.size() != 3 || f[0].empty() || f[1].empty()) return BadLine("rpm -qa", n, line);
    // gpg-pubkey entries are keys, not packages.
    if (f[0] == "gpg-pubkey") continue;
    Add(set, Family::kRpm, std::string(f[0]), NormaliseEpoch(f[1]), std::string(f[2]));
  }
  return set;
}

std::map<std::string, std::string> ParseRepoquery(std::string_view text) {
  std::map<std::string, std::string> out;
  for (std::string_view line : Lines(text)) {
    auto f = SplitTabs(line);
    if (f.size() != 3 || f[0].empty() || f[1].empty()) continue;
    std::string v = NormaliseEpoch(f[1]);
    auto [it, fresh] = out.try_emplace(std::string(f[0]), v);
    if (!fresh && CompareRpm(v, it->second) > 0) it->second = v;
  }
  return out;
}

std::map<std::string, std::string> ParseAptPolicy(std::string_view text) {
  std::map<std::string, std::string> out;
  std::string current;
  for (std::string_view line : Lines(text)) {
    if (line.empty()) continue;
    if (line[0] != ' ' && line.back() == ':') {
      current = std::string(line.substr(0, line.size() - 1));
      continue;
    }
    std::string_view t = Trim(line);
    if (current.empty() || t.substr(0, 10) != "Candidate:") continue;
    std::string_view v = Trim(t.substr(10));
    if (!v.empty() && v != "(none)") out[current] = std::string(v);
  }
  return out;
}

Result<PackageFile> ParseDebFields(std::string_view text) {
  PackageFile pf;
  for (std::string_view line : Lines(text)) {
    if (line.substr(0, 8) == "Package:") pf.name = std::string(Trim(line.substr(8)));
    if (line.substr(0, 8) == "Version:") pf.version = std::string(Trim(line.substr(8)));
  }
  if (pf.name.empty() || pf.version.empty())
    return MakeError(ErrorCode::kInvalid, "not a Debian package (no Package/Version fields)");
  return pf;
}

Result<PackageFile> ParseRpmFile(std::string_view text) {
  for (std::string_view line : Lines(text)) {
    auto f = SplitTabs(line);
    if (f.size() == 3 && !f[0].empty() && !f[1].empty())
      return PackageFile{std::string(f[0]), NormaliseEpoch(f[1])};
  }
  return MakeError(ErrorCode::kInvalid, "not an RPM package (rpm -qp printed no name and version)");
}

}  // namespace keel::pkg
