// keel's YAML node tree built from libyaml's events (engine/yaml_tree.h).
#include "engine/yaml_tree.h"

#include <yaml.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace keel::yaml {

namespace {

constexpr size_t kBlock = 64 * 1024;

bool IsNullText(std::string_view t) {
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

// libyaml counts marks in characters; keel's marks are bytes (as yaml-cpp's
// were). Events come in text order, so one cursor walks forward.
class ByteCursor {
 public:
  explicit ByteCursor(std::string_view text) : t_(text) {
    ascii_ = true;
    for (unsigned char c : text)
      if (c >= 0x80) {
        ascii_ = false;
        break;
      }
  }
  Mark Convert(const yaml_mark_t& m) {
    Mark out{static_cast<int>(m.index), static_cast<int>(m.line), static_cast<int>(m.column)};
    if (ascii_) return out;
    if (m.index < chars_) {  // backwards (an error mark): start over
      chars_ = 0;
      bytes_ = 0;
      lines_ = 0;
      line_start_ = 0;
    }
    while (chars_ < m.index && bytes_ < t_.size()) {
      unsigned char c = static_cast<unsigned char>(t_[bytes_]);
      size_t w = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      if (c == '\n') {
        ++lines_;
        line_start_ = bytes_ + 1;
      }
      bytes_ += w;
      ++chars_;
    }
    out.pos = static_cast<int>(bytes_);
    if (lines_ == m.line) out.column = static_cast<int>(bytes_ - line_start_);
    return out;
  }

 private:
  std::string_view t_;
  bool ascii_;
  size_t chars_ = 0, bytes_ = 0, lines_ = 0, line_start_ = 0;
};

}  // namespace

class Builder {
 public:
  Builder(Document& doc, std::string_view text) : doc_(doc), cursor_(text) {}

  bool Run(std::string_view text, ParseError* error);

 private:
  NodeData* NewNode(const yaml_event_t& e, const yaml_char_t* tag, NodeType type, uint8_t def_tag);
  bool Add(const NodeData* n, const yaml_event_t& e, ParseError* error);
  void Anchor(const yaml_char_t* anchor, const NodeData* n) {
    if (anchor) anchors_[reinterpret_cast<const char*>(anchor)] = n;
  }
  std::string_view Copy(const char* s, size_t n) {
    if (n == 0) return std::string_view();
    char* p = static_cast<char*>(doc_.Alloc(n, 1));
    std::memcpy(p, s, n);
    return std::string_view(p, n);
  }

  struct Frame {
    NodeData* node;
    size_t first;  // in pending_
  };
  Document& doc_;
  ByteCursor cursor_;
  std::vector<Frame> frames_;
  std::vector<const NodeData*> pending_;
  std::unordered_map<std::string, const NodeData*> anchors_;
  const NodeData* root_ = nullptr;
  bool have_root_ = false;
};

void* Document::Alloc(size_t size, size_t align) {
  size_t pad = (align - reinterpret_cast<uintptr_t>(cur_) % align) % align;
  if (cur_ == nullptr || pad + size > left_) {
    size_t want = size > kBlock / 4 ? size + align : kBlock;
    blocks_.push_back(std::unique_ptr<char[]>(new char[want]));  // not zeroed
    bytes_ += want;
    cur_ = blocks_.back().get();
    left_ = want;
    pad = (align - reinterpret_cast<uintptr_t>(cur_) % align) % align;
  }
  char* p = cur_ + pad;
  cur_ += pad + size;
  left_ -= pad + size;
  return p;
}

Document::~Document() = default;

NodeData* Builder::NewNode(const yaml_event_t& e, const yaml_char_t* tag, NodeType type,
                           uint8_t def_tag) {
  NodeData* n;
  if (tag) {
    auto* t = new (doc_.Alloc(sizeof(TaggedNodeData), alignof(TaggedNodeData))) TaggedNodeData();
    const char* s = reinterpret_cast<const char*>(tag);
    t->tag_text = Copy(s, std::strlen(s));
    t->tag = 2;
    n = t;
  } else {
    n = new (doc_.Alloc(sizeof(NodeData), alignof(NodeData))) NodeData();
    n->tag = def_tag;
  }
  n->type = type;
  // A collection is open until its end event sets its size: an alias to it
  // before then is recursive, and counts as unbounded.
  n->expanded = type == NodeType::Sequence || type == NodeType::Map ? UINT32_MAX : 1;
  Mark m = cursor_.Convert(e.start_mark);
  n->pos = m.pos;
  n->line = m.line;
  n->col = m.column;
  n->text = nullptr;
  return n;
}

bool Builder::Add(const NodeData* n, const yaml_event_t& e, ParseError* error) {
  if (static_cast<int>(frames_.size()) + 1 > kMaxParseDepth) {
    error->kind = ParseError::kDepth;
    error->mark = cursor_.Convert(e.start_mark);
    return false;
  }
  if (frames_.empty()) {
    root_ = n;
    have_root_ = true;
  } else {
    pending_.push_back(n);
  }
  return true;
}

bool Builder::Run(std::string_view text, ParseError* error) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    error->message = "out of memory";
    return false;
  }
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
  bool ok = true, done = false;
  while (ok && !done) {
    yaml_event_t e;
    if (!yaml_parser_parse(&parser, &e)) {
      ok = false;
      const char* problem = parser.problem ? parser.problem : "invalid YAML";
      if (parser.error == YAML_READER_ERROR) {
        error->mark = Mark{static_cast<int>(parser.problem_offset), -1, -1};
        error->message = problem;
        // A reader error has a byte offset only: find its line and column.
        size_t off = std::min(parser.problem_offset, text.size());
        int line = 0;
        size_t start = 0;
        for (size_t i = 0; i < off; ++i)
          if (text[i] == '\n') {
            ++line;
            start = i + 1;
          }
        error->mark.line = line;
        error->mark.column = static_cast<int>(off - start);
        break;
      }
      error->mark = cursor_.Convert(parser.problem_mark);
      std::string ctx = parser.context ? parser.context : "";
      if (ctx == "while scanning a quoted scalar" &&
          std::strcmp(problem, "found unexpected end of stream") == 0) {
        error->kind = ParseError::kUnterminatedQuote;
        error->mark = cursor_.Convert(parser.context_mark);
        size_t p = static_cast<size_t>(error->mark.pos);
        error->quote = p < text.size() ? text[p] : '"';
        break;
      }
      error->message = problem;
      if (!ctx.empty()) {
        Mark cm = cursor_.Convert(parser.context_mark);
        error->message += " (" + ctx + " at line " + std::to_string(cm.line + 1) + ", column " +
                          std::to_string(cm.column + 1) + ")";
      }
      break;
    }
    switch (e.type) {
      case YAML_SCALAR_EVENT: {
        const auto& s = e.data.scalar;
        std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
        bool plain = s.style == YAML_PLAIN_SCALAR_STYLE;
        NodeData* n;
        if (!s.tag && plain && IsNullText(value)) {
          n = NewNode(e, nullptr, NodeType::Null, 0);
        } else {
          n = NewNode(e, s.tag, NodeType::Scalar, plain ? 0 : 1);
          // Plain and quoted scalars without escapes or folding are
          // their source text: a view, no copy.
          size_t at = static_cast<size_t>(n->pos) + (plain ? 0 : 1);
          bool quoted = s.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                        s.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
          if ((plain || quoted) && at + value.size() <= text.size() &&
              text.compare(at, value.size(), value) == 0) {
            n->text = text.data() + at;
          } else {
            n->text = Copy(value.data(), value.size()).data();
          }
          n->len = static_cast<uint32_t>(value.size());
        }
        Anchor(s.anchor, n);
        ok = Add(n, e, error);
        break;
      }
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        if (it == anchors_.end()) {
          error->mark = cursor_.Convert(e.start_mark);
          error->message = "the referenced anchor is not defined";
          ok = false;
          break;
        }
        ok = Add(it->second, e, error);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        bool seq = e.type == YAML_SEQUENCE_START_EVENT;
        const yaml_char_t* tag = seq ? e.data.sequence_start.tag : e.data.mapping_start.tag;
        NodeData* n = NewNode(e, tag, seq ? NodeType::Sequence : NodeType::Map, 0);
        Anchor(seq ? e.data.sequence_start.anchor : e.data.mapping_start.anchor, n);
        ok = Add(n, e, error);
        if (ok) frames_.push_back(Frame{n, pending_.size()});
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Frame f = frames_.back();
        frames_.pop_back();
        size_t count = pending_.size() - f.first;
        if (count) {
          auto** kids = static_cast<const NodeData**>(
              doc_.Alloc(count * sizeof(const NodeData*), alignof(const NodeData*)));
          std::memcpy(kids, pending_.data() + f.first, count * sizeof(const NodeData*));
          f.node->kids = kids;
        }
        f.node->len = static_cast<uint32_t>(count);
        // Map keys do not count: a reader converts values (a merge key's
        // value counts in full, an upper bound of what it contributes).
        uint64_t expanded = 1;
        bool map = f.node->type == NodeType::Map;
        for (size_t i = f.first + (map ? 1 : 0); i < pending_.size() && expanded < UINT32_MAX;
             i += map ? 2 : 1)
          expanded += pending_[i]->expanded;
        f.node->expanded = static_cast<uint32_t>(std::min<uint64_t>(expanded, UINT32_MAX));
        pending_.resize(f.first);
        break;
      }
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        done = true;  // the first document only
        break;
      default:
        break;
    }
    yaml_event_delete(&e);
  }
  yaml_parser_delete(&parser);
  if (ok) doc_.root_ = have_root_ ? root_ : nullptr;
  return ok;
}

std::unique_ptr<Document> Document::Parse(std::string_view text, ParseError* error) {
  if (auto doc = ParseSimple(text)) return doc;
  return ParseLibyaml(text, error);
}

std::unique_ptr<Document> Document::ParseLibyaml(std::string_view text, ParseError* error) {
  auto doc = std::make_unique<Document>();
  Builder b(*doc, text);
  if (!b.Run(text, error)) return nullptr;
  return doc;
}

}  // namespace keel::yaml
