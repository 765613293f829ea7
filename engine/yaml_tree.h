// keel's own YAML node tree, parsed with libyaml (a C library whose scanner
// is an order of magnitude faster than yaml-cpp's, which dominated loading
// at 100,000 resources). A Document owns every node of one file in a few
// arena blocks: a node is 32 bytes, a plain or simple quoted scalar is a
// view into the source text, a Node is one pointer. No shared_ptr graph.
// Text in the subset of YAML most manifests use is read by keel's own
// parser instead (engine/yaml_simple.cc), into the same tree.
//
// What the tree gives matches what yaml-cpp 0.7's YAML::Load gave keel:
//  - A plain scalar without an explicit tag whose text is "", "~", "null",
//    "Null" or "NULL" (and an empty value) is a Null node.
//  - Tag(): "?" for an untagged plain scalar or collection, "!" for an
//    untagged quoted or block scalar, else the resolved tag
//    ("tag:yaml.org,2002:str" for !!str).
//  - Marks: 0-based line and byte column, byte offset in the text, at the
//    node's first token (its anchor or tag when it has one). An alias is
//    the node it names (same mark); an anchor is known from the start of
//    its node, so `&a [*a]` is a cycle (walkers bound their depth).
//  - Only the first document is read; empty text is a Null root.
//  - Nesting: a node more than 499 levels deep is an error (kDepth).
// A Node is valid while its Document lives; scalars may view the text
// given to Parse, which must outlive the Document too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::yaml {

struct Mark {
  int pos = -1;
  int line = -1;
  int column = -1;
  bool is_null() const { return line < 0; }
};

enum class NodeType : uint8_t { Null, Scalar, Sequence, Map };

struct NodeData;
class NodeIterator;

/// A handle on a node; the default Node is a Null node without a mark.
class Node {
 public:
  Node() = default;
  explicit Node(const NodeData* d) : d_(d) {}

  NodeType Type() const;
  bool IsDefined() const { return true; }
  explicit operator bool() const { return true; }
  bool IsNull() const { return Type() == NodeType::Null; }
  bool IsScalar() const { return Type() == NodeType::Scalar; }
  bool IsSequence() const { return Type() == NodeType::Sequence; }
  bool IsMap() const { return Type() == NodeType::Map; }
  /// The text of a scalar ("" for other nodes).
  std::string_view Scalar() const;
  std::string_view Tag() const;
  Mark GetMark() const;
  /// Items of a sequence, entries of a map (pairs), 0 otherwise.
  size_t size() const;
  /// Nodes of the subtree once aliases are expanded (saturating at
  /// UINT32_MAX; see NodeData::expanded). Merge keys count in full.
  uint32_t expanded_size() const;
  /// Same node (aliases are the node they name).
  bool operator==(const Node& o) const { return d_ == o.d_; }
  const NodeData* data() const { return d_; }

  using iterator = NodeIterator;
  iterator begin() const;
  iterator end() const;

 private:
  const NodeData* d_ = nullptr;
};

/// An iteration step: a sequence item (the Node itself) or a map entry
/// (first, second).
struct NodeItem : Node {
  Node first, second;
};

class NodeIterator {
 public:
  NodeIterator(const NodeData* const* p, bool map) : p_(p), map_(map) {}
  NodeItem operator*() const;
  NodeIterator& operator++() {
    p_ += map_ ? 2 : 1;
    return *this;
  }
  bool operator!=(const NodeIterator& o) const { return p_ != o.p_; }
  bool operator==(const NodeIterator& o) const { return p_ == o.p_; }

 private:
  const NodeData* const* p_;
  bool map_;
};

struct NodeData {
  // Scalar: text (len bytes); collection: `len` children (a map: key,
  // value, key, value...).
  union {
    const char* text;
    const NodeData* const* kids;
  };
  uint32_t len = 0;
  int32_t pos = -1, line = -1, col = -1;
  // Nodes in this subtree once aliases are expanded (1 for a scalar; map
  // keys do not count, merged maps count in full),
  // saturating at UINT32_MAX; an alias to a collection that is still open
  // (a recursive alias) counts as UINT32_MAX. Lets a reader refuse a
  // "billion laughs" value before walking it.
  uint32_t expanded = 1;
  NodeType type = NodeType::Null;
  uint8_t tag = 0;  // 0 "?", 1 "!", 2 explicit: the node is a TaggedNodeData
};

struct TaggedNodeData : NodeData {
  std::string_view tag_text;  // in the Document's arena
};

class Document;

/// A parse failure: where and what. kind tells the caller which of keel's
/// messages to write.
struct ParseError {
  enum Kind { kSyntax, kDepth, kUnterminatedQuote };
  Kind kind = kSyntax;
  Mark mark;
  std::string message;  // libyaml's problem (and context), for kSyntax
  char quote = 0;       // kUnterminatedQuote: '"' or '\''
};

/// The deepest a node may be (the root is at depth 1).
constexpr int kMaxParseDepth = 499;

class Document {
 public:
  Document() = default;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;
  ~Document();

  Node root() const { return Node(root_); }
  /// Parses the first document of `text` (which must outlive the result).
  /// nullptr and *error set on failure. Text in the simple subset most
  /// manifests are written in is read by keel's own parser
  /// (engine/yaml_simple.cc), anything else by libyaml; the tree is the same.
  static std::unique_ptr<Document> Parse(std::string_view text, ParseError* error);
  /// The two halves, for the tests that hold them equal: libyaml alone, and
  /// the subset parser alone (nullptr when the text is outside its subset).
  static std::unique_ptr<Document> ParseLibyaml(std::string_view text, ParseError* error);
  static std::unique_ptr<Document> ParseSimple(std::string_view text);

  /// Memory held (for tests and benchmarks).
  size_t bytes() const { return bytes_; }

 private:
  friend class Builder;
  friend class SimpleParser;
  friend class Node;
  void* Alloc(size_t size, size_t align);
  const NodeData* root_ = nullptr;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cur_ = nullptr;
  size_t left_ = 0;
  size_t bytes_ = 0;
};

inline uint32_t Node::expanded_size() const { return d_ ? d_->expanded : 1; }
inline NodeType Node::Type() const { return d_ ? d_->type : NodeType::Null; }
inline std::string_view Node::Scalar() const {
  return d_ && d_->type == NodeType::Scalar ? std::string_view(d_->text, d_->len)
                                            : std::string_view();
}
inline std::string_view Node::Tag() const {
  if (!d_) return std::string_view();
  if (d_->tag == 2) return static_cast<const TaggedNodeData*>(d_)->tag_text;
  return d_->tag == 1 ? std::string_view("!") : std::string_view("?");
}
inline Mark Node::GetMark() const { return d_ ? Mark{d_->pos, d_->line, d_->col} : Mark{}; }
inline size_t Node::size() const {
  if (!d_) return 0;
  if (d_->type == NodeType::Sequence) return d_->len;
  if (d_->type == NodeType::Map) return d_->len / 2;
  return 0;
}
inline Node::iterator Node::begin() const {
  bool coll = d_ && (d_->type == NodeType::Sequence || d_->type == NodeType::Map);
  return iterator(coll ? d_->kids : nullptr, d_ && d_->type == NodeType::Map);
}
inline Node::iterator Node::end() const {
  bool coll = d_ && (d_->type == NodeType::Sequence || d_->type == NodeType::Map);
  return iterator(coll ? d_->kids + d_->len : nullptr, d_ && d_->type == NodeType::Map);
}
inline NodeItem NodeIterator::operator*() const {
  NodeItem it;
  if (map_) {
    it.first = Node(p_[0]);
    it.second = Node(p_[1]);
  } else {
    static_cast<Node&>(it) = Node(p_[0]);
  }
  return it;
}

}  // namespace keel::yaml
