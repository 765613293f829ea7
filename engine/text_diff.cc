// Unified diffs: dtl computes the edit script, the hunks are formatted here
// the way GNU `diff -u` prints them (dtl's own unified printer differs in
// hunk headers and in how it orders deletions and additions).
#include "engine/text_diff.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <dtl/dtl.hpp>
#pragma GCC diagnostic pop

#include "engine/text_lines.h"

namespace keel {
namespace {

constexpr size_t kContext = 3;

enum class Op { kCommon, kDelete, kAdd };

struct Step {
  Op op;
  size_t a;  // index into before lines (kCommon, kDelete)
  size_t b;  // index into after lines (kCommon, kAdd)
};

// Lines of the changed middle that dtl aligns; beyond it, see below.
constexpr size_t kMaxAlignedLines = 40000;

// The edit script over whole files: the common prefix and suffix are
// trimmed first (as diff(1) does), dtl aligns the middle.
std::vector<Step> EditScript(const std::vector<std::string_view>& a,
                             const std::vector<std::string_view>& b) {
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
    ++suf;

  std::vector<Step> steps;
  steps.reserve(a.size() + b.size() - pre - suf);
  for (size_t i = 0; i < pre; ++i) steps.push_back({Op::kCommon, i, i});

  const size_t na = a.size() - suf - pre, nb = b.size() - suf - pre;
  if (na == 0) {
    for (size_t j = 0; j < nb; ++j) steps.push_back({Op::kAdd, 0, pre + j});
  } else if (nb == 0) {
    for (size_t i = 0; i < na; ++i) steps.push_back({Op::kDelete, pre + i, 0});
  } else if (na + nb > kMaxAlignedLines) {
    // dtl is O((N+M)·D): two large, very different middles would take
    // minutes. Past the cap the middle is shown as one replaced block — a
    // correct diff, only not a minimal one (and no line ids are built: a
    // rewrite of a 2,000,000-line file costs its steps, not a hash map).
    for (size_t i = 0; i < na; ++i) steps.push_back({Op::kDelete, pre + i, 0});
    for (size_t j = 0; j < nb; ++j) steps.push_back({Op::kAdd, 0, pre + j});
  } else {
    // dtl compares line ids, not strings (equal lines share one id).
    std::unordered_map<std::string_view, int> ids;
    auto id_of = [&](std::string_view line) {
      return ids.emplace(line, static_cast<int>(ids.size())).first->second;
    };
    std::vector<int> mid_a, mid_b;
    mid_a.reserve(na);
    mid_b.reserve(nb);
    for (size_t i = pre; i < a.size() - suf; ++i) mid_a.push_back(id_of(a[i]));
    for (size_t i = pre; i < b.size() - suf; ++i) mid_b.push_back(id_of(b[i]));
    dtl::Diff<int, std::vector<int>> d(mid_a, mid_b);
    d.compose();
    // Within one run of changes diff(1) prints every deletion before the
    // additions; dtl may interleave them.
    std::vector<Step> dels, adds;
    auto flush = [&] {
      steps.insert(steps.end(), dels.begin(), dels.end());
      steps.insert(steps.end(), adds.begin(), adds.end());
      dels.clear();
      adds.clear();
    };
    for (const auto& [elem, info] : d.getSes().getSequence()) {
      size_t ai = info.beforeIdx > 0 ? static_cast<size_t>(info.beforeIdx - 1) + pre : 0;
      size_t bi = info.afterIdx > 0 ? static_cast<size_t>(info.afterIdx - 1) + pre : 0;
      if (info.type == dtl::SES_COMMON) {
        flush();
        steps.push_back({Op::kCommon, ai, bi});
      } else if (info.type == dtl::SES_DELETE) {
        dels.push_back({Op::kDelete, ai, 0});
      } else {
        adds.push_back({Op::kAdd, 0, bi});
      }
    }
    flush();
  }
  size_t off_a = a.size() - suf, off_b = b.size() - suf;
  for (size_t i = 0; i < suf; ++i) steps.push_back({Op::kCommon, off_a + i, off_b + i});
  return steps;
}

// "l,s" as diff(1) prints a range: "l" alone when s == 1; for an empty
// range, l is the line before it.
std::string Range(size_t first, size_t count) {
  if (count == 1) return std::to_string(first + 1);
  return std::to_string(count == 0 ? first : first + 1) + "," + std::to_string(count);
}

void AppendLine(std::string& out, char mark, std::string_view line) {
  out += mark;
  if (!line.empty() && line.back() == '\n') {
    out.append(line);
  } else {
    out.append(line);
    out += "\n\\ No newline at end of file\n";
  }
}

}  // namespace

std::string UnifiedDiff(std::string_view before, std::string_view after,
                        const std::string& from_label, const std::string& to_label) {
  if (before == after) return "";
  if (before.find('\0') != std::string_view::npos || after.find('\0') != std::string_view::npos)
    return "Binary files differ\n";

  // The common head and tail are found on bytes first, so that a diff of a
  // 2-million-line file with one changed line splits only the changed
  // middle and its context into lines (time linear, memory of the change).
  const size_t la = before.size(), lb = after.size();
  size_t p = 0;
  while (p < la && p < lb && before[p] == after[p]) ++p;
  // Whole lines only: back to the start of the line holding the difference.
  size_t pre = p == 0 ? 0 : before.rfind('\n', p - 1);
  pre = (p == 0 || pre == std::string_view::npos) ? 0 : pre + 1;
  size_t s = 0;
  while (s < la - pre && s < lb - pre && before[la - 1 - s] == after[lb - 1 - s]) ++s;
  // The tail starts at a line start in both texts.
  auto line_start = [](std::string_view t, size_t q, size_t floor) {
    return q == floor || t[q - 1] == '\n';
  };
  size_t qa = la - s;
  if (!(line_start(before, qa, pre) && line_start(after, qa + lb - la, pre))) {
    size_t nl = before.find('\n', qa);
    qa = nl == std::string_view::npos ? la : nl + 1;
  }
  // Up to kContext lines of context from the head and the tail.
  size_t ctx_from = pre;
  for (size_t k = 0; k < kContext && ctx_from > 0; ++k) {
    size_t nl = ctx_from >= 2 ? before.rfind('\n', ctx_from - 2) : std::string_view::npos;
    ctx_from = nl == std::string_view::npos ? 0 : nl + 1;
  }
  size_t ctx_to = qa;
  for (size_t k = 0; k < kContext && ctx_to < la; ++k) {
    size_t nl = before.find('\n', ctx_to);
    ctx_to = nl == std::string_view::npos ? la : nl + 1;
  }
  const size_t first_line =
      static_cast<size_t>(std::count(before.begin(), before.begin() + ctx_from, '\n'));

  // Lines keep their terminating '\n' so that "x" (last line, no newline)
  // and "x\n" differ, as they do for diff(1).
  std::vector<std::string_view> a = SplitLinesKeepEnds(before.substr(ctx_from, ctx_to - ctx_from)),
                                b = SplitLinesKeepEnds(
                                    after.substr(ctx_from, ctx_to + lb - la - ctx_from));
  std::vector<Step> steps = EditScript(a, b);

  std::string out = "--- " + from_label + "\n+++ " + to_label + "\n";
  size_t n = steps.size();
  size_t i = 0;
  while (i < n) {
    // Find the next change.
    while (i < n && steps[i].op == Op::kCommon) ++i;
    if (i == n) break;
    size_t hunk_begin = i >= kContext ? i - kContext : 0;
    // Extend over changes separated by at most 2*context common lines.
    size_t end = i;  // one past the last change of the hunk
    size_t j = i;
    while (j < n) {
      while (j < n && steps[j].op != Op::kCommon) ++j;
      end = j;
      size_t k = j;
      while (k < n && steps[k].op == Op::kCommon) ++k;
      if (k == n || k - j > 2 * kContext) break;
      j = k;
    }
    size_t hunk_end = std::min(n, end + kContext);

    // Line numbers: the hunk's first line in each file.
    size_t a_first = 0, b_first = 0, a_count = 0, b_count = 0;
    bool a_set = false, b_set = false;
    for (size_t k = hunk_begin; k < hunk_end; ++k) {
      const Step& s = steps[k];
      if (s.op != Op::kAdd) {
        if (!a_set) a_first = s.a, a_set = true;
        ++a_count;
      }
      if (s.op != Op::kDelete) {
        if (!b_set) b_first = s.b, b_set = true;
        ++b_count;
      }
    }
    // An empty side: the position is the number of lines before the hunk.
    auto lines_before = [&](bool old_side) {
      size_t count = 0;
      for (size_t k = 0; k < hunk_begin; ++k)
        if (steps[k].op == Op::kCommon || steps[k].op == (old_side ? Op::kDelete : Op::kAdd))
          ++count;
      return count;
    };
    if (!a_set) a_first = lines_before(true);
    if (!b_set) b_first = lines_before(false);

    out += "@@ -" + Range(first_line + a_first, a_count) + " +" +
           Range(first_line + b_first, b_count) + " @@\n";
    for (size_t k = hunk_begin; k < hunk_end; ++k) {
      const Step& s = steps[k];
      switch (s.op) {
        case Op::kCommon:
          AppendLine(out, ' ', a[s.a]);
          break;
        case Op::kDelete:
          AppendLine(out, '-', a[s.a]);
          break;
        case Op::kAdd:
          AppendLine(out, '+', b[s.b]);
          break;
      }
    }
    i = hunk_end;
  }
  return out;
}

}  // namespace keel
