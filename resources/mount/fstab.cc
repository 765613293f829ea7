#include "resources/mount/fstab.h"

#include <algorithm>
#include <map>

#include "resources/common/edit.h"

namespace keel::fstab {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Display column after `text` starting at `col`, tabs to multiples of 8.
size_t Advance(size_t col, std::string_view text) {
  for (char c : text) col = c == '\t' ? (col / 8 + 1) * 8 : col + 1;
  return col;
}

// Whitespace that moves from column `col` to `target`, with tabs or
// spaces; at least one character.
std::string Pad(size_t col, size_t target, bool tabs) {
  std::string out;
  if (tabs) {
    do {
      out += '\t';
      col = (col / 8 + 1) * 8;
    } while (col < target);
    return out;
  }
  return std::string(target > col ? target - col : 1, ' ');
}

FstabLine ParseLine(std::string_view line) {
  FstabLine out;
  out.raw = std::string(line);
  std::string_view body = line;
  size_t end = body.size();
  while (end > 0 && (IsBlank(body[end - 1]) || body[end - 1] == '\r')) --end;
  out.trailer = std::string(body.substr(end));
  body = body.substr(0, end);
  size_t i = 0;
  while (i < body.size() && IsBlank(body[i])) ++i;
  out.indent = std::string(body.substr(0, i));
  if (i >= body.size() || body[i] == '#') return out;
  std::vector<std::string> seps, fields;
  bool first = true;
  while (i < body.size()) {
    size_t s = i;
    while (i < body.size() && IsBlank(body[i])) ++i;
    seps.emplace_back(first ? std::string_view() : body.substr(s, i - s));
    first = false;
    s = i;
    while (i < body.size() && !IsBlank(body[i])) ++i;
    fields.emplace_back(body.substr(s, i - s));
  }
  // fstab(5) has 4 to 6 fields; anything else is kept as written.
  if (fields.size() < 4 || fields.size() > 6) return out;
  out.is_entry = true;
  out.fields = std::move(fields);
  out.seps = std::move(seps);
  return out;
}

std::string Num(const std::string& s) {
  size_t i = s.find_first_not_of('0');
  return i == std::string::npos ? "0" : s.substr(i);
}

// The layout new lines follow: separators of one character everywhere, or
// per-field start columns (the most common one of each field).
struct Layout {
  std::string single;  // " " or "\t" when every separator is exactly that
  std::vector<size_t> columns;
  bool tabs = false;
};

Layout FileLayout(const std::vector<FstabLine>& lines) {
  Layout out;
  std::vector<std::map<size_t, int>> counts(6);
  bool all_tab = true, all_space = true, any = false, any_space = false;
  for (const auto& l : lines) {
    if (!l.is_entry) continue;
    size_t col = Advance(0, l.indent + l.fields[0]);
    for (size_t i = 1; i < l.fields.size() && i < 6; ++i) {
      any = true;
      const std::string& s = l.seps[i];
      all_tab = all_tab && s == "\t";
      all_space = all_space && s == " ";
      any_space = any_space || s.find(' ') != std::string::npos;
      col = Advance(col, s);
      counts[i][col]++;
      col = Advance(col, l.fields[i]);
    }
  }
  if (!any || all_tab) {
    out.single = "\t";
    return out;
  }
  if (all_space) {
    out.single = " ";
    return out;
  }
  out.tabs = !any_space;
  out.columns.assign(6, 0);
  for (size_t i = 1; i < 6; ++i) {
    int best = 0;
    for (const auto& [c, n] : counts[i])
      if (n > best) best = n, out.columns[i] = c;
  }
  return out;
}

std::vector<std::string> FieldsOf(const Entry& e) {
  return {Encode(e.device), Encode(e.point), e.fstype, e.options, e.dump, e.pass};
}

}  // namespace

bool Entry::SameAs(const Entry& o) const {
  return device == o.device && point == o.point && fstype == o.fstype && options == o.options &&
         Num(dump) == Num(o.dump) && Num(pass) == Num(o.pass);
}

std::string Encode(std::string_view field) {
  std::string out;
  for (char c : field) {
    switch (c) {
      case ' ':
        out += "\\040";
        break;
      case '\t':
        out += "\\011";
        break;
      case '\n':
        out += "\\012";
        break;
      case '\\':
        out += "\\134";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Decode(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      std::string_view oct = field.substr(i + 1, 3);
      if (oct.size() == 3 &&
          std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

std::string FstabLine::Render() const {
  if (!is_entry) return raw;
  std::string out = indent;
  for (size_t i = 0; i < fields.size(); ++i) out += seps[i] + fields[i];
  return out + trailer;
}

Entry FstabLine::ToEntry() const {
  Entry e;
  e.device = Decode(fields[0]);
  e.point = Decode(fields[1]);
  e.fstype = fields[2];
  e.options = fields[3];
  e.dump = fields.size() > 4 ? fields[4] : "0";
  e.pass = fields.size() > 5 ? fields[5] : "0";
  return e;
}

Fstab Fstab::Parse(std::string_view text) {
  Fstab f;
  f.lines_ = edit::ParseLines<decltype(f.lines_)::value_type>(
      text, [](std::string_view line) { return ParseLine(line); }, f.final_newline_);
  return f;
}

std::string Fstab::Render() const { return edit::RenderLines(lines_, final_newline_); }

std::optional<Entry> Fstab::Find(std::string_view point) const {
  for (const auto& l : lines_)
    if (l.is_entry && Decode(l.fields[1]) == point) return l.ToEntry();
  return std::nullopt;
}

void Fstab::Set(const Entry& entry) {
  Layout layout = FileLayout(lines_);
  std::vector<std::string> want = FieldsOf(entry);
  bool done = false;
  std::vector<FstabLine> kept;
  for (auto& l : lines_) {
    if (!l.is_entry || Decode(l.fields[1]) != entry.point) {
      kept.push_back(std::move(l));
      continue;
    }
    if (done) continue;  // a later duplicate for the same point
    done = true;
    if (l.ToEntry().SameAs(entry)) {
      kept.push_back(std::move(l));
      continue;
    }
    // Original start column of each field, to keep padded columns.
    std::vector<size_t> cols;
    size_t col = Advance(0, l.indent);
    for (size_t i = 0; i < l.fields.size(); ++i) {
      col = Advance(col, l.seps[i]);
      cols.push_back(col);
      col = Advance(col, l.fields[i]);
    }
    // Keep a missing dump/pass missing when 0 is what is wanted.
    size_t n = l.fields.size();
    if (n < 6 && Num(want[5]) != "0") n = 6;
    if (n < 5 && Num(want[4]) != "0") n = 5;
    FstabLine out = l;
    out.fields.resize(n);
    out.seps.resize(n);
    std::string text = l.indent;
    for (size_t i = 0; i < n; ++i) {
      bool numeric = i >= 4;
      bool same = i < l.fields.size() &&
                  (numeric ? Num(l.fields[i]) == Num(want[i]) : l.fields[i] == want[i]);
      std::string value = same ? l.fields[i] : want[i];
      std::string sep;
      if (i == 0) {
        sep = "";
      } else if (i < l.seps.size() && l.seps[i].size() == 1) {
        sep = l.seps[i];
      } else if (i < l.seps.size()) {
        bool tabs = l.seps[i].find(' ') == std::string::npos;
        sep = Pad(Advance(0, text), cols[i], tabs);
      } else if (!layout.single.empty()) {
        sep = layout.single;
      } else {
        sep = Pad(Advance(0, text), layout.columns[i], layout.tabs);
      }
      out.fields[i] = value;
      out.seps[i] = sep;
      text += sep + value;
    }
    kept.push_back(std::move(out));
  }
  if (!done) {
    FstabLine l;
    l.is_entry = true;
    std::string text;
    for (size_t i = 0; i < want.size(); ++i) {
      std::string sep;
      if (i > 0)
        sep = !layout.single.empty() ? layout.single
                                     : Pad(Advance(0, text), layout.columns[i], layout.tabs);
      l.seps.push_back(sep);
      l.fields.push_back(want[i]);
      text += sep + want[i];
    }
    final_newline_ = true;
    kept.push_back(std::move(l));
  }
  lines_ = std::move(kept);
}

void Fstab::Remove(std::string_view point) {
  std::erase_if(lines_,
                [&](const FstabLine& l) { return l.is_entry && Decode(l.fields[1]) == point; });
}

}  // namespace keel::fstab
