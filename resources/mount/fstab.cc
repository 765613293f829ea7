#include "resources/mount/fstab.h"

#include <algorithm>
#include <array>
#include <map>

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

// One entry line, as views into the text: fstab(5) has 4 to 6 fields; a
// line with fewer or more (or a comment, or blank) is kept as written.
// Reused from line to line so that a scan allocates nothing per line.
struct EntryLine {
  std::string_view indent;
  std::array<std::string_view, 6> fields;
  std::array<std::string_view, 6> seps;  // seps[i] is the whitespace before fields[i]; seps[0] = ""
  size_t n = 0;                          // number of fields
  std::string_view trailer;              // trailing whitespace and '\r'
};

// Fills `out` from `line`; false when the line is not an entry.
bool ParseEntry(std::string_view line, EntryLine& out) {
  std::string_view body = line;
  size_t end = body.size();
  while (end > 0 && (IsBlank(body[end - 1]) || body[end - 1] == '\r')) --end;
  out.trailer = body.substr(end);
  body = body.substr(0, end);
  size_t i = 0;
  while (i < body.size() && IsBlank(body[i])) ++i;
  out.indent = body.substr(0, i);
  out.n = 0;
  if (i >= body.size() || body[i] == '#') return false;
  while (i < body.size()) {
    if (out.n == 6) return false;  // a 7th field
    size_t s = i;
    while (i < body.size() && IsBlank(body[i])) ++i;
    out.seps[out.n] = body.substr(s, i - s);
    s = i;
    while (i < body.size() && !IsBlank(body[i])) ++i;
    out.fields[out.n++] = body.substr(s, i - s);
  }
  return out.n >= 4;
}

Entry ToEntry(const EntryLine& l) {
  Entry e;
  e.device = Decode(l.fields[0]);
  e.point = Decode(l.fields[1]);
  e.fstype = l.fields[2];
  e.options = l.fields[3];
  e.dump = l.n > 4 ? l.fields[4] : "0";
  e.pass = l.n > 5 ? l.fields[5] : "0";
  return e;
}

std::string_view Num(std::string_view s) {
  size_t i = s.find_first_not_of('0');
  return i == std::string_view::npos ? "0" : s.substr(i);
}

// The layout new lines follow: separators of one character everywhere, or
// per-field start columns (the most common one of each field).
struct Layout {
  std::string single;  // " " or "\t" when every separator is exactly that
  std::vector<size_t> columns;
  bool tabs = false;
};

Layout FileLayout(std::string_view text) {
  Layout out;
  std::vector<std::map<size_t, int>> counts(6);
  bool all_tab = true, all_space = true, any = false, any_space = false;
  EntryLine l;
  edit::ForEachLine(text, [&](const edit::LineSpan& span) {
    if (!ParseEntry(span.text, l)) return;
    size_t col = Advance(Advance(0, l.indent), l.fields[0]);
    for (size_t i = 1; i < l.n; ++i) {
      any = true;
      std::string_view s = l.seps[i];
      all_tab = all_tab && s == "\t";
      all_space = all_space && s == " ";
      any_space = any_space || s.find(' ') != std::string_view::npos;
      col = Advance(col, s);
      counts[i][col]++;
      col = Advance(col, l.fields[i]);
    }
  });
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

bool DecodedEquals(std::string_view field, std::string_view decoded) {
  if (field.find('\\') == std::string_view::npos) return field == decoded;
  return Decode(field) == decoded;
}

Fstab Fstab::Parse(std::string_view text) { return Parse(std::string(text)); }

Fstab Fstab::Parse(std::string&& text) {
  auto owned = std::make_shared<const std::string>(std::move(text));
  Fstab f(*owned);
  f.owned_ = std::move(owned);
  return f;
}

Fstab Fstab::Borrow(std::string_view text) { return Fstab(text); }

std::string Fstab::Render() const { return edits_ ? edits_->Render() : std::string(text_); }

void Fstab::Commit() {
  if (changed()) {
    auto owned = std::make_shared<const std::string>(edits_->Render());
    text_ = *owned;
    owned_ = std::move(owned);
  }
  edits_.reset();
}

std::optional<Entry> Fstab::Find(std::string_view point) const {
  if (changed()) return Parse(Render()).Find(point);
  std::optional<Entry> found;
  EntryLine l;
  edit::ForEachLine(text_, [&](const edit::LineSpan& span) {
    if (!ParseEntry(span.text, l) || !DecodedEquals(l.fields[1], point)) return true;
    found = ToEntry(l);
    return false;
  });
  return found;
}

void Fstab::Set(const Entry& entry) {
  Commit();
  edit::LineEdits& edits = edits_.emplace(text_);
  std::vector<std::string> want = FieldsOf(entry);
  // The layout of the file as parsed; only needed to write a line.
  std::optional<Layout> file_layout;
  auto layout = [&]() -> const Layout& {
    if (!file_layout) file_layout = FileLayout(text_);
    return *file_layout;
  };
  bool done = false;
  EntryLine l;
  edit::ForEachLine(text_, [&](const edit::LineSpan& span) {
    if (!ParseEntry(span.text, l) || !DecodedEquals(l.fields[1], entry.point)) return;
    if (done) {  // a later duplicate for the same point
      edits.Erase(span);
      return;
    }
    done = true;
    if (ToEntry(l).SameAs(entry)) return;
    // Original start column of each field, to keep padded columns.
    std::array<size_t, 6> cols{};
    size_t col = Advance(0, l.indent);
    for (size_t i = 0; i < l.n; ++i) {
      col = Advance(col, l.seps[i]);
      cols[i] = col;
      col = Advance(col, l.fields[i]);
    }
    // Keep a missing dump/pass missing when 0 is what is wanted.
    size_t n = l.n;
    if (n < 6 && Num(want[5]) != "0") n = 6;
    if (n < 5 && Num(want[4]) != "0") n = 5;
    std::string text(l.indent);
    for (size_t i = 0; i < n; ++i) {
      bool numeric = i >= 4;
      bool same = i < l.n && (numeric ? Num(l.fields[i]) == Num(want[i]) : l.fields[i] == want[i]);
      std::string_view value = same ? l.fields[i] : std::string_view(want[i]);
      std::string sep;
      if (i == 0) {
        sep = "";
      } else if (i < l.n && l.seps[i].size() == 1) {
        sep = l.seps[i];
      } else if (i < l.n) {
        bool tabs = l.seps[i].find(' ') == std::string_view::npos;
        sep = Pad(Advance(0, text), cols[i], tabs);
      } else if (!layout().single.empty()) {
        sep = layout().single;
      } else {
        sep = Pad(Advance(0, text), layout().columns[i], layout().tabs);
      }
      (text += sep) += value;
    }
    text += l.trailer;
    if (text != span.text) edits.Replace(span, std::move(text));
  });
  if (!done) {
    std::string text;
    for (size_t i = 0; i < want.size(); ++i) {
      if (i > 0)
        text += !layout().single.empty()
                    ? layout().single
                    : Pad(Advance(0, text), layout().columns[i], layout().tabs);
      text += want[i];
    }
    // A file whose last line lacks '\n' gets it now that a line follows
    // (LineEdits::Append does).
    edits.Append(std::move(text));
  }
}

void Fstab::Remove(std::string_view point) {
  Commit();
  edit::LineEdits& edits = edits_.emplace(text_);
  EntryLine l;
  edit::ForEachLine(text_, [&](const edit::LineSpan& span) {
    if (ParseEntry(span.text, l) && DecodedEquals(l.fields[1], point)) edits.Erase(span);
  });
}

FstabIndex FstabIndex::Build(std::string_view text) {
  FstabIndex x;
  x.text_ = text;
  EntryLine l;
  edit::ForEachLine(text, [&](const edit::LineSpan& span) {
    if (!ParseEntry(span.text, l)) return;
    At& at = x.at_[Decode(l.fields[1])];
    if (at.lines++ == 0) at.first = span.begin;
  });
  return x;
}

std::optional<Entry> FstabIndex::Find(std::string_view point) const {
  auto it = at_.find(std::string(point));
  if (it == at_.end()) return std::nullopt;
  size_t nl = text_.find('\n', it->second.first);
  std::string_view line = text_.substr(
      it->second.first, (nl == std::string_view::npos ? text_.size() : nl) - it->second.first);
  EntryLine l;
  if (!ParseEntry(line, l)) return std::nullopt;
  return ToEntry(l);
}

bool FstabIndex::InPlace(const Entry& entry) const {
  auto it = at_.find(entry.point);
  if (it == at_.end() || it->second.lines != 1) return false;
  std::optional<Entry> have = Find(entry.point);
  return have && have->SameAs(entry);
}

bool FstabIndex::Absent(std::string_view point) const {
  return at_.find(std::string(point)) == at_.end();
}

}  // namespace keel::fstab
