// The fast path of the YAML parser (engine/yaml_tree.h): most manifests use
// a small part of YAML, and libyaml spends ~140 instructions a byte on it
// (a quarter of a no-op apply of 1,000 files). This parser reads only that
// part, straight into the Document's nodes, and gives up on anything else;
// Document::Parse then parses the text again with libyaml. So it never
// decides what a document means or reports an error: it only has to build,
// for what it accepts, exactly the tree libyaml's would (values, tags,
// marks, sizes). tests/unit/yaml_simple_test.cc holds the two equal on
// every manifest of the repository and on generated and mutated documents.
//
// The subset:
//  - ASCII text without tabs, carriage returns or control characters;
//  - block mappings and block sequences (a sequence may sit at its key's
//    indentation; "- key: value" starts a mapping), nested at most
//    kMaxDepth deep, the root one of them at column 0;
//  - keys: plain or quoted scalars on one line, at most 1,000 bytes;
//  - values: plain scalars on one line, single- and double-quoted scalars
//    on one line (the usual escapes), flow sequences of such scalars on one
//    line, empty values (null);
//  - comments, blank lines, one "---" line at the very start.
// Everything else is left to libyaml: anchors, aliases, tags, block scalars
// (| >), flow mappings, nested flow, multi-line scalars, more documents,
// directives, and anything odd.
#include <cstring>
#include <string>
#include <vector>

#include "engine/yaml_tree.h"

namespace keel::yaml {

namespace {

constexpr int kMaxDepth = 100;
constexpr size_t kMaxKey = 1000;

struct GiveUp {};

bool IsNullText(std::string_view t) {
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

// Characters that start something other than a plain scalar.
bool IsIndicator(char c) { return std::strchr("-?:,[]{}#&*!|>'\"%@`", c) != nullptr; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Writes code point cp as UTF-8 at out; returns the bytes written (1-4).
size_t Utf8(char* out, uint32_t cp) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xc0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xe0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out[2] = static_cast<char>(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = static_cast<char>(0xf0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
  out[3] = static_cast<char>(0x80 | (cp & 0x3f));
  return 4;
}

// The code point of a one-letter escape of a double-quoted scalar (YAML
// 1.2, 5.7), or -1: \x, \u and \U take hex digits and are not here.
int32_t EscapedCodePoint(char e) {
  switch (e) {
    case '0':
      return 0;
    case 'a':
      return '\a';
    case 'b':
      return '\b';
    case 't':
      return '\t';
    case 'n':
      return '\n';
    case 'v':
      return '\v';
    case 'f':
      return '\f';
    case 'r':
      return '\r';
    case 'e':
      return 0x1b;
    case ' ':
      return ' ';
    case '"':
      return '"';
    case '/':
      return '/';
    case '\\':
      return '\\';
    case 'N':
      return 0x85;
    case '_':
      return 0xa0;
    case 'L':
      return 0x2028;
    case 'P':
      return 0x2029;
    default:
      return -1;
  }
}

}  // namespace

class SimpleParser {
 public:
  SimpleParser(Document& doc, std::string_view text) : doc_(doc), t_(text) {}

  // False: the text is outside the subset (the Document holds garbage).
  bool Run() {
    for (char ch : t_) {
      auto c = static_cast<unsigned char>(ch);
      if (c >= 0x7f || (c < 0x20 && c != '\n')) return false;
    }
    try {
      ScanLines();
      if (!eof_ && indent_ == 0 && line_ == 0 && At("---") && EndsToken(p_ + 3)) {
        p_ += 3;
        EndLine();
        if (eof_) throw GiveUp{};  // "---" alone: an empty scalar, for libyaml
      }
      if (eof_) {
        doc_.root_ = nullptr;
        return true;
      }
      if (indent_ != 0) throw GiveUp{};
      const NodeData* root = Block(0);
      if (!eof_) throw GiveUp{};
      doc_.root_ = root;
      return true;
    } catch (const GiveUp&) {
      return false;
    }
  }

 private:
  // -- text ----------------------------------------------------------------
  char C(size_t i) const { return i < t_.size() ? t_[i] : '\n'; }
  bool At(const char* s) const { return t_.compare(p_, std::strlen(s), s) == 0; }
  // A token ends at i: end of text, end of line or a space.
  bool EndsToken(size_t i) const { return C(i) == ' ' || C(i) == '\n'; }
  bool IsSeqEntry(size_t i) const { return C(i) == '-' && EndsToken(i + 1); }
  Mark MarkAt(size_t i) const {
    return Mark{static_cast<int>(i), line_, static_cast<int>(i - line_start_)};
  }
  void SkipSpaces() {
    while (p_ < t_.size() && t_[p_] == ' ') ++p_;
  }

  // From p_ (anywhere on a line) to the start of the next line; false at
  // the end of the text (eof_ set).
  bool NextLine() {
    while (p_ < t_.size() && t_[p_] != '\n') ++p_;
    if (p_ >= t_.size()) {
      eof_ = true;
      return false;
    }
    ++p_;
    ++line_;
    line_start_ = p_;
    return true;
  }
  // From p_ (anywhere on a line) to the first character of the next line
  // that holds more than spaces or a comment: indent_, line_, line_start_
  // describe it; eof_ when there is none.
  void NextContent() {
    if (NextLine()) ScanLines();
  }
  // The same from the start of a line. A document marker there ends the
  // subset (keel reads the first document only; libyaml decides where).
  void ScanLines() {
    for (;;) {
      SkipSpaces();
      if (p_ >= t_.size()) {
        eof_ = true;
        return;
      }
      if (t_[p_] == '\n' || t_[p_] == '#') {
        if (!NextLine()) return;
        continue;
      }
      indent_ = static_cast<int>(p_ - line_start_);
      if (indent_ == 0 && (At("---") || At("...")) && EndsToken(p_ + 3) && line_ > 0)
        throw GiveUp{};
      return;
    }
  }

  // After a value on the line: spaces, then the end of the line or a
  // comment after a space; then the next content line.
  void EndLine() {
    size_t before = p_;
    SkipSpaces();
    if (C(p_) == '#') {
      if (p_ == before && p_ > 0 && t_[p_ - 1] != ' ') throw GiveUp{};
    } else if (C(p_) != '\n') {
      throw GiveUp{};
    }
    NextContent();
  }

  // -- nodes ---------------------------------------------------------------
  NodeData* New(NodeType type, uint8_t tag, size_t at) { return New(type, tag, MarkAt(at)); }
  NodeData* New(NodeType type, uint8_t tag, Mark m) {
    auto* n = new (doc_.Alloc(sizeof(NodeData), alignof(NodeData))) NodeData();
    n->type = type;
    n->tag = tag;
    n->pos = m.pos;
    n->line = m.line;
    n->col = m.column;
    n->text = nullptr;
    n->expanded = 1;
    return n;
  }
  NodeData* Scalar(std::string_view text, bool view, uint8_t tag, size_t at) {
    if (tag == 0 && IsNullText(text)) return New(NodeType::Null, 0, at);
    NodeData* n = New(NodeType::Scalar, tag, at);
    if (view || text.empty()) {
      n->text = text.data();
    } else {
      char* s = static_cast<char*>(doc_.Alloc(text.size(), 1));
      std::memcpy(s, text.data(), text.size());
      n->text = s;
    }
    n->len = static_cast<uint32_t>(text.size());
    return n;
  }
  // Closes a collection whose children are pending_[first...].
  void Close(NodeData* n, size_t first) {
    size_t count = pending_.size() - first;
    if (count) {
      auto** kids = static_cast<const NodeData**>(
          doc_.Alloc(count * sizeof(const NodeData*), alignof(const NodeData*)));
      std::memcpy(kids, pending_.data() + first, count * sizeof(const NodeData*));
      n->kids = kids;
    }
    n->len = static_cast<uint32_t>(count);
    bool map = n->type == NodeType::Map;
    uint64_t expanded = 1;
    for (size_t i = first + (map ? 1 : 0); i < pending_.size(); i += map ? 2 : 1)
      expanded += pending_[i]->expanded;
    n->expanded = static_cast<uint32_t>(std::min<uint64_t>(expanded, UINT32_MAX));
    pending_.resize(first);
  }

  // -- scalars ---------------------------------------------------------------
  // A double-quoted scalar at p_ on one line; p_ moves past it. Without
  // escapes it is a view of the text; with them it is decoded into the
  // arena (at most 3 bytes for every 2 of escape: "\\L" is U+2028).
  NodeData* DoubleQuoted() {
    size_t at = p_++;
    size_t start = p_;
    bool escaped = false;
    for (;;) {
      char c = C(p_);
      if (c == '\n') throw GiveUp{};  // multi-line or unterminated
      if (c == '"') break;
      if (c == '\\') {
        escaped = true;
        if (C(p_ + 1) == '\n') throw GiveUp{};
        ++p_;
      }
      ++p_;
    }
    std::string_view raw = t_.substr(start, p_ - start);
    ++p_;  // the closing quote
    if (!escaped) return Scalar(raw, true, 1, at);
    char* out = static_cast<char*>(doc_.Alloc(raw.size() / 2 * 3 + 4, 1));
    size_t n = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\') {
        out[n++] = raw[i];
        continue;
      }
      const char e = raw[++i];
      const int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
      if (!digits) {
        const int32_t cp = EscapedCodePoint(e);
        if (cp < 0) throw GiveUp{};
        n += Utf8(out + n, static_cast<uint32_t>(cp));
      }
      if (digits) {
        uint32_t cp = 0;
        for (int k = 1; k <= digits; ++k) {
          int d = i + k < raw.size() ? HexDigit(raw[i + k]) : -1;
          if (d < 0) throw GiveUp{};
          cp = cp * 16 + static_cast<uint32_t>(d);
        }
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) throw GiveUp{};
        n += Utf8(out + n, cp);
        i += static_cast<size_t>(digits);
      }
    }
    NodeData* node = New(NodeType::Scalar, 1, at);
    node->text = out;
    node->len = static_cast<uint32_t>(n);
    return node;
  }

  NodeData* SingleQuoted() {
    size_t at = p_++;
    size_t start = p_;
    std::string buf;
    bool escaped = false;
    for (;;) {
      char c = C(p_);
      if (c == '\n') throw GiveUp{};
      if (c == '\'') {
        if (C(p_ + 1) != '\'') break;
        if (!escaped) buf.assign(t_.substr(start, p_ - start)), escaped = true;
        buf += '\'';
        p_ += 2;
        continue;
      }
      if (escaped) buf += c;
      ++p_;
    }
    std::string_view raw = t_.substr(start, p_ - start);
    ++p_;
    return escaped ? Scalar(buf, false, 1, at) : Scalar(raw, true, 1, at);
  }

  // A plain scalar in block context from p_ to the end of the line or a
  // comment; a ": " inside (a mapping where none may start) gives up.
  NodeData* PlainValue() {
    size_t at = p_;
    if (IsIndicator(C(p_)) && !(C(p_) == '-' && !EndsToken(p_ + 1))) throw GiveUp{};
    size_t end = p_;
    for (;; ++p_) {
      char c = C(p_);
      if (c == '\n') break;
      if (c == '#' && t_[p_ - 1] == ' ') break;
      if (c == ':' && EndsToken(p_ + 1)) throw GiveUp{};
      if (c != ' ') end = p_ + 1;
    }
    p_ = end;
    return Scalar(t_.substr(at, end - at), true, 0, at);
  }

  // A flow sequence on one line of scalars: [a, "b", 'c'].
  NodeData* FlowSequence() {
    if (++depth_ > kMaxDepth) throw GiveUp{};
    NodeData* n = New(NodeType::Sequence, 0, p_);
    size_t first = pending_.size();
    ++p_;
    SkipSpaces();
    if (C(p_) == ']') {
      ++p_;
    } else {
      for (;;) {
        char c = C(p_);
        if (c == '"') {
          pending_.push_back(DoubleQuoted());
        } else if (c == '\'') {
          pending_.push_back(SingleQuoted());
        } else {
          size_t at = p_;
          if (IsIndicator(c) && !(c == '-' && !EndsToken(p_ + 1))) throw GiveUp{};
          size_t end = p_;
          for (;; ++p_) {
            char d = C(p_);
            if (d == ',' || d == ']') break;
            if (d == '\n' || d == ':' || d == '[' || d == '{' || d == '}') throw GiveUp{};
            if (d == '#' && t_[p_ - 1] == ' ') throw GiveUp{};
            if (d != ' ') end = p_ + 1;
          }
          if (end == at) throw GiveUp{};
          pending_.push_back(Scalar(t_.substr(at, end - at), true, 0, at));
        }
        SkipSpaces();
        if (C(p_) == ']') {
          ++p_;
          break;
        }
        if (C(p_) != ',') throw GiveUp{};
        ++p_;
        SkipSpaces();
        if (C(p_) == ']' || C(p_) == ',') throw GiveUp{};
      }
    }
    Close(n, first);
    --depth_;
    return n;
  }

  // A value that starts on the line at p_ (after "key: " or "- ").
  NodeData* InlineValue() {
    switch (C(p_)) {
      case '"':
        return DoubleQuoted();
      case '\'':
        return SingleQuoted();
      case '[':
        return FlowSequence();
      default:
        return PlainValue();
    }
  }

  // Whether a mapping key starts at i: a plain or quoted scalar on this
  // line followed by ':' and a space or the end of the line.
  bool LooksLikeKey(size_t i) const {
    char c = C(i);
    size_t j = i;
    if (c == '"' || c == '\'') {
      for (++j;; ++j) {
        char d = C(j);
        if (d == '\n') return false;
        if (c == '"' && d == '\\') {
          ++j;
          continue;
        }
        if (d == c) {
          if (c == '\'' && C(j + 1) == '\'') {
            ++j;
            continue;
          }
          break;
        }
      }
      ++j;
      while (C(j) == ' ') ++j;
      return C(j) == ':' && EndsToken(j + 1);
    }
    if (IsIndicator(c) && !(c == '-' && !EndsToken(i + 1))) return false;
    for (;; ++j) {
      char d = C(j);
      if (d == '\n') return false;
      if (d == '#' && j > i && t_[j - 1] == ' ') return false;
      if (d == ':' && EndsToken(j + 1)) return true;
    }
  }

  NodeData* Key() {
    size_t at = p_;
    NodeData* k;
    char c = C(p_);
    if (c == '"') {
      k = DoubleQuoted();
    } else if (c == '\'') {
      k = SingleQuoted();
    } else {
      size_t end = p_;
      while (!(C(p_) == ':' && EndsToken(p_ + 1))) {
        if (C(p_) != ' ') end = p_ + 1;
        ++p_;
      }
      k = Scalar(t_.substr(at, end - at), true, 0, at);
    }
    if (p_ - at > kMaxKey) throw GiveUp{};
    SkipSpaces();
    if (C(p_) != ':') throw GiveUp{};
    ++p_;
    return k;
  }

  // -- blocks ----------------------------------------------------------------
  // The block collection whose first line is the current content line, at
  // indentation n.
  NodeData* Block(int n) {
    if (IsSeqEntry(p_)) return Sequence(n);
    if (LooksLikeKey(p_)) return Mapping(n);
    throw GiveUp{};
  }

  // A block sequence whose entries are at column n; p_ at the first '-'.
  NodeData* Sequence(int n) {
    if (++depth_ > kMaxDepth) throw GiveUp{};
    NodeData* seq = New(NodeType::Sequence, 0, p_);
    size_t first = pending_.size();
    for (;;) {
      ++p_;  // the '-'
      Mark dash_end = MarkAt(p_);
      SkipSpaces();
      char c = C(p_);
      if (c == '\n' || (c == '#' && t_[p_ - 1] == ' ')) {
        EndLine();
        if (!eof_ && indent_ > n) {
          pending_.push_back(Block(indent_));
        } else {
          pending_.push_back(New(NodeType::Null, 0, dash_end));
        }
      } else if (IsSeqEntry(p_)) {
        throw GiveUp{};
      } else if (LooksLikeKey(p_)) {
        pending_.push_back(Mapping(static_cast<int>(p_ - line_start_)));
      } else {
        pending_.push_back(InlineValue());
        EndLine();
        if (!eof_ && indent_ > n) throw GiveUp{};
      }
      if (eof_ || indent_ < n) break;
      if (indent_ > n) throw GiveUp{};
      if (!IsSeqEntry(p_)) break;  // the key after a sequence at its key's indentation
    }
    Close(seq, first);
    --depth_;
    return seq;
  }

  // A block mapping whose keys are at column n; p_ at the first key (which
  // may follow "- " on its line).
  NodeData* Mapping(int n) {
    if (++depth_ > kMaxDepth) throw GiveUp{};
    NodeData* map = New(NodeType::Map, 0, p_);
    size_t first = pending_.size();
    for (;;) {
      if (!LooksLikeKey(p_)) throw GiveUp{};
      pending_.push_back(Key());
      Mark colon_end = MarkAt(p_);
      SkipSpaces();
      char c = C(p_);
      if (c == '\n' || (c == '#' && t_[p_ - 1] == ' ')) {
        EndLine();
        if (!eof_ && indent_ > n) {
          pending_.push_back(Block(indent_));
        } else if (!eof_ && indent_ == n && IsSeqEntry(p_)) {
          pending_.push_back(Sequence(n));
        } else {
          pending_.push_back(New(NodeType::Null, 0, colon_end));
        }
      } else {
        if (IsSeqEntry(p_)) throw GiveUp{};
        pending_.push_back(InlineValue());
        EndLine();
        if (!eof_ && indent_ > n) throw GiveUp{};
      }
      if (eof_ || indent_ < n) break;
      if (indent_ > n || IsSeqEntry(p_)) throw GiveUp{};
    }
    Close(map, first);
    --depth_;
    return map;
  }

  Document& doc_;
  std::string_view t_;
  size_t p_ = 0;
  int line_ = 0;
  size_t line_start_ = 0;
  int indent_ = 0;
  bool eof_ = false;
  int depth_ = 0;
  std::vector<const NodeData*> pending_;
};

std::unique_ptr<Document> Document::ParseSimple(std::string_view text) {
  auto doc = std::make_unique<Document>();
  SimpleParser p(*doc, text);
  if (!p.Run()) return nullptr;
  return doc;
}

}  // namespace keel::yaml
