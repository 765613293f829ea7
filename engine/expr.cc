// The expression language (SPEC 2.4): a lazy tokenizer and a recursive-descent
// parser that evaluates while it parses (no AST: expressions are evaluated
// once, and 10,000 resources are interpolated at load). The right side of a
// short-circuited `and`/`or` is parsed in "skip" mode: checked for syntax,
// not evaluated, so `x in facts and facts.x.y` needs no guard.
#include "engine/expr.h"

#include <re2/re2.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/version.h"

namespace keel {

namespace {

// ---------------------------------------------------------------- numbers

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool HasDot(std::string_view s) { return s.find('.') != std::string_view::npos; }

/// A decimal number written plainly ("6", "-1.5", "1e3"): no blanks, hex,
/// inf or nan.
bool ParseNumeric(const std::string& s, double* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') return false;
  }
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  *out = d;
  return true;
}

int Sign(double d) { return d < 0 ? -1 : d > 0 ? 1 : 0; }

int CompareNumbers(const Value& a, const Value& b) {
  if (a.is_int() && b.is_int()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
  return Sign(a.as_double() - b.as_double());
}

std::string Describe(const Value& v) {
  std::string s = v.is_string() ? v.ToJson() : v.ToString();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  if (v.is_null()) return "null";
  return std::string(KindName(v.kind())) + " " + s;
}

// ---------------------------------------------------------------- regex cache

// RE2 (linear-time matching: a hostile pattern cannot hang a run).
const RE2* CompiledRegex(const std::string& pattern, std::string* error) {
  thread_local std::unordered_map<std::string, std::unique_ptr<RE2>> cache;
  auto it = cache.find(pattern);
  if (it != cache.end()) return it->second.get();
  if (pattern.size() > kMaxRegexBytes) {
    *error = "regex too long (" + std::to_string(pattern.size()) + " bytes, at most " +
             std::to_string(kMaxRegexBytes) +
             "): matching time grows with the pattern's length times the text's";
    return nullptr;
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, opts);
  if (!re->ok()) {
    *error = "bad regex " + Value(pattern).ToJson() + ": " + re->error() +
             " (RE2 syntax: no backreferences or lookaround)";
    return nullptr;
  }
  if (cache.size() > 1024) cache.clear();
  return cache.emplace(pattern, std::move(re)).first->second.get();
}

// ---------------------------------------------------------------- tokens

enum class Tok {
  kEnd,
  kString,
  kInt,
  kDouble,
  kIdent,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kMatch,
  kError,
};

struct Token {
  Tok type = Tok::kEnd;
  size_t pos = 0;
  std::string_view text;  // identifier text / raw token
  std::string str;        // decoded string literal (or a version literal)
  int64_t i = 0;
  double d = 0;
  std::string error;  // for kError
};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '-'; }

void Lex(std::string_view s, size_t& p, Token& t) {
  t.str.clear();
  t.error.clear();
  while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r')) ++p;
  t.pos = p;
  if (p >= s.size()) {
    t.type = Tok::kEnd;
    t.text = {};
    return;
  }
  char c = s[p];
  auto op = [&](Tok type, size_t len) {
    t.type = type;
    t.text = s.substr(p, len);
    p += len;
  };
  auto next = [&](char want) { return p + 1 < s.size() && s[p + 1] == want; };
  switch (c) {
    case '(':
      return op(Tok::kLParen, 1);
    case ')':
      return op(Tok::kRParen, 1);
    case '[':
      return op(Tok::kLBracket, 1);
    case ']':
      return op(Tok::kRBracket, 1);
    case ',':
      return op(Tok::kComma, 1);
    case '.':
      if (!next('.') && p + 1 < s.size() && IsDigit(s[p + 1])) break;  // ".5": number below
      return op(Tok::kDot, 1);
    case '=':
      if (next('=')) return op(Tok::kEq, 2);
      if (next('~')) return op(Tok::kMatch, 2);
      t.type = Tok::kError;
      t.error = "unexpected '='; did you mean '=='?";
      return;
    case '!':
      if (next('=')) return op(Tok::kNe, 2);
      t.type = Tok::kError;
      t.error = "unexpected '!'; use 'not'";
      return;
    case '<':
      return next('=') ? op(Tok::kLe, 2) : op(Tok::kLt, 1);
    case '>':
      return next('=') ? op(Tok::kGe, 2) : op(Tok::kGt, 1);
    case '&':
    case '|':
      t.type = Tok::kError;
      t.error = std::string("unexpected '") + c + "'; use '" + (c == '&' ? "and" : "or") + "'";
      return;
    case '"':
    case '\'': {
      size_t q = p + 1;
      while (q < s.size() && s[q] != c) {
        if (s[q] == '\\' && q + 1 < s.size()) {
          char e = s[q + 1];
          switch (e) {
            case 'n':
              t.str += '\n';
              break;
            case 't':
              t.str += '\t';
              break;
            case 'r':
              t.str += '\r';
              break;
            case '\\':
              t.str += '\\';
              break;
            case '"':
              t.str += '"';
              break;
            case '\'':
              t.str += '\'';
              break;
            default:  // keep unknown escapes: regexes read "\d" as written
              t.str += '\\';
              t.str += e;
          }
          q += 2;
        } else {
          t.str += s[q++];
        }
      }
      if (q >= s.size()) {
        t.type = Tok::kError;
        t.error = "unterminated string";
        return;
      }
      t.type = Tok::kString;
      t.text = s.substr(p, q + 1 - p);
      p = q + 1;
      return;
    }
    default:
      break;
  }
  bool neg = c == '-' && p + 1 < s.size() && (IsDigit(s[p + 1]) || s[p + 1] == '.');
  if (IsDigit(c) || c == '.' || neg) {
    size_t q = p + (neg ? 1 : 0);
    int dots = 0;
    while (q < s.size() &&
           (IsDigit(s[q]) || (s[q] == '.' && q + 1 < s.size() && IsDigit(s[q + 1])))) {
      if (s[q] == '.') ++dots;
      ++q;
    }
    bool exp = false;
    if (dots <= 1 && q < s.size() && (s[q] == 'e' || s[q] == 'E')) {
      size_t r = q + 1;
      if (r < s.size() && (s[r] == '+' || s[r] == '-')) ++r;
      if (r < s.size() && IsDigit(s[r])) {
        while (r < s.size() && IsDigit(s[r])) ++r;
        q = r;
        exp = true;
      }
    }
    if (q < s.size() && IsIdentChar(s[q])) {
      t.type = Tok::kError;
      t.error = "bad number '" + std::string(s.substr(p, q + 1 - p)) + "'";
      return;
    }
    t.text = s.substr(p, q - p);
    std::string num(t.text);
    p = q;
    if (dots >= 2) {  // a bare version (2.6.18) is a string
      t.type = Tok::kString;
      t.str = std::move(num);
    } else if (dots == 1 || exp) {
      t.d = std::strtod(num.c_str(), nullptr);
      if (!exp && IsDottedVersion(num) && Value(t.d).ToString() != num) {
        // "6.10" would read as 6.1: like YAML (yaml_value.h), keep the text.
        t.type = Tok::kString;
        t.str = std::move(num);
      } else {
        t.type = Tok::kDouble;
      }
    } else {
      errno = 0;
      t.i = std::strtoll(num.c_str(), nullptr, 10);
      if (errno == ERANGE) {
        p = t.pos;
        t.type = Tok::kError;
        t.error = "integer out of range '" + num + "'";
        return;
      }
      t.type = Tok::kInt;
    }
    return;
  }
  if (IsIdentStart(c)) {
    size_t q = p + 1;
    while (q < s.size() && IsIdentChar(s[q])) ++q;
    // A trailing '-' belongs to nothing sensible; keep it out of the name.
    while (q > p + 1 && s[q - 1] == '-') --q;
    return op(Tok::kIdent, q - p);
  }
  t.type = Tok::kError;
  unsigned char uc = static_cast<unsigned char>(c);
  if (uc >= 0x20 && uc < 0x7f) {
    t.error = std::string("unexpected character '") + c + "'";
  } else {
    t.error = "unexpected byte";
  }
}

// ---------------------------------------------------------------- parser

// A value produced by the parser: a reference into `vars` while walking
// paths (no copies), or an owned value.
struct Operand {
  const Value* ref = nullptr;
  Value owned;
  const Value& get() const { return ref ? *ref : owned; }
  Value take() { return ref ? *ref : std::move(owned); }
  static Operand Own(Value v) {
    Operand o;
    o.owned = std::move(v);
    return o;
  }
};

class Parser {
 public:
  Parser(std::string_view text, const Value& vars) : s_(text), vars_(vars) { Advance(); }

  bool Run(Value* out) {
    Operand v;
    if (!Or(v)) return false;
    if (tok_.type != Tok::kEnd) return Unexpected();
    *out = v.take();
    return true;
  }

  const std::string& error() const { return error_; }
  size_t error_offset() const { return error_offset_; }

 private:
  void Advance() { Lex(s_, p_, tok_); }

  bool Fail(size_t pos, std::string msg) {
    if (error_.empty()) {
      error_ = std::move(msg);
      error_offset_ = pos;
    }
    return false;
  }

  bool Unexpected() {
    if (tok_.type == Tok::kError) return Fail(tok_.pos, tok_.error);
    if (tok_.type == Tok::kEnd) return Fail(tok_.pos, "unexpected end of expression");
    return Fail(tok_.pos, "unexpected '" + std::string(tok_.text) + "'");
  }

  bool IsKeyword(std::string_view kw) const { return tok_.type == Tok::kIdent && tok_.text == kw; }

  bool Or(Operand& out) {
    if (!And(out)) return false;
    while (IsKeyword("or")) {
      Advance();
      bool done = skip_ || IsTruthy(out.get());
      if (done) ++skip_;
      Operand rhs;
      bool ok = And(rhs);
      if (done) --skip_;
      if (!ok) return false;
      if (!done) out = std::move(rhs);
    }
    return true;
  }

  bool And(Operand& out) {
    if (!Not(out)) return false;
    while (IsKeyword("and")) {
      Advance();
      bool done = skip_ || !IsTruthy(out.get());
      if (done) ++skip_;
      Operand rhs;
      bool ok = Not(rhs);
      if (done) --skip_;
      if (!ok) return false;
      if (!done) out = std::move(rhs);
    }
    return true;
  }

  // Every recursion (parentheses, lists, indexes, `not`) passes here: a
  // bound keeps hostile input from overflowing the stack.
  bool Not(Operand& out) {
    if (depth_ >= kMaxDepth) return Fail(tok_.pos, "expression nested too deeply");
    ++depth_;
    bool ok = NotInner(out);
    --depth_;
    return ok;
  }

  bool NotInner(Operand& out) {
    if (IsKeyword("not")) {
      Advance();
      Operand v;
      if (!Not(v)) return false;
      out = Operand::Own(Value(skip_ ? false : !IsTruthy(v.get())));
      return true;
    }
    return Comparison(out);
  }

  enum class Op { kNone, kEq, kNe, kLt, kLe, kGt, kGe, kMatch, kIn, kNotIn };

  Op PeekOp() {
    switch (tok_.type) {
      case Tok::kEq:
        return Op::kEq;
      case Tok::kNe:
        return Op::kNe;
      case Tok::kLt:
        return Op::kLt;
      case Tok::kLe:
        return Op::kLe;
      case Tok::kGt:
        return Op::kGt;
      case Tok::kGe:
        return Op::kGe;
      case Tok::kMatch:
        return Op::kMatch;
      case Tok::kIdent:
        if (tok_.text == "in") return Op::kIn;
        if (tok_.text == "not") {
          size_t q = p_;
          Token t2;
          Lex(s_, q, t2);
          if (t2.type == Tok::kIdent && t2.text == "in") return Op::kNotIn;
        }
        return Op::kNone;
      default:
        return Op::kNone;
    }
  }

  // Python-style chains: a < b < c is (a < b) and (b < c).
  bool Comparison(Operand& out) {
    if (!Postfix(out)) return false;
    Op op = PeekOp();
    if (op == Op::kNone) return true;
    bool result = true;
    Operand left = std::move(out);
    while (op != Op::kNone) {
      size_t op_pos = tok_.pos;
      Advance();
      if (op == Op::kNotIn) Advance();
      size_t rhs_pos = tok_.pos;
      Operand right;
      if (!Postfix(right)) return false;
      if (!skip_ && result) {
        bool r = false;
        if (!Apply(op, left.get(), right.get(), op_pos, rhs_pos, &r)) return false;
        result = r;
      }
      left = std::move(right);
      op = PeekOp();
    }
    out = Operand::Own(Value(result));
    return true;
  }

  bool Apply(Op op, const Value& a, const Value& b, size_t op_pos, size_t rhs_pos, bool* r) {
    switch (op) {
      case Op::kEq:
        *r = LooseEquals(a, b);
        return true;
      case Op::kNe:
        *r = !LooseEquals(a, b);
        return true;
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe: {
        auto c = CompareValues(a, b);
        if (!c.ok()) return Fail(op_pos, c.error().message);
        int v = *c;
        *r = op == Op::kLt ? v < 0 : op == Op::kLe ? v <= 0 : op == Op::kGt ? v > 0 : v >= 0;
        return true;
      }
      case Op::kMatch: {
        if (!b.is_string()) return Fail(rhs_pos, "=~ needs a regex string, got " + Describe(b));
        if (!a.is_scalar() || a.is_null())
          return Fail(op_pos, "=~ needs a string on the left, got " + Describe(a));
        std::string err;
        const RE2* re = CompiledRegex(b.as_string(), &err);
        if (!re) return Fail(rhs_pos, err);
        *r = RE2::PartialMatch(a.is_string() ? a.as_string() : a.ToString(), *re);
        return true;
      }
      case Op::kIn:
      case Op::kNotIn: {
        bool found = false;
        if (b.is_list()) {
          for (const auto& e : b.as_list()) {
            if (LooseEquals(a, e)) {
              found = true;
              break;
            }
          }
        } else if (b.is_string()) {
          if (!a.is_scalar() || a.is_null())
            return Fail(op_pos, "'in' a string needs a string on the left, got " + Describe(a));
          found =
              b.as_string().find(a.is_string() ? a.as_string() : a.ToString()) != std::string::npos;
        } else if (b.is_map()) {
          if (!a.is_scalar() || a.is_null())
            return Fail(op_pos, "'in' a map needs a key on the left, got " + Describe(a));
          found = b.as_map().Has(a.is_string() ? a.as_string() : a.ToString());
        } else {
          return Fail(rhs_pos, "'in' needs a list, string or map on the right, got " + Describe(b));
        }
        *r = op == Op::kIn ? found : !found;
        return true;
      }
      case Op::kNone:
        break;
    }
    return Fail(op_pos, "internal: bad operator");
  }

  // atom ( '.' name | '[' expr ']' )*
  bool Postfix(Operand& out) {
    size_t start = tok_.pos;
    if (!Atom(out)) return false;
    while (tok_.type == Tok::kDot || tok_.type == Tok::kLBracket) {
      if (tok_.type == Tok::kDot) {
        Advance();
        if (tok_.type != Tok::kIdent) {
          if (tok_.type == Tok::kError) return Fail(tok_.pos, tok_.error);
          return Fail(tok_.pos, "expected a name after '.'");
        }
        size_t key_pos = tok_.pos;
        std::string_view key = tok_.text;
        Advance();
        if (skip_) continue;
        if (!Walk(out, key, key_pos, start)) return false;
      } else {
        Advance();
        size_t idx_pos = tok_.pos;
        Operand idx;
        if (!Or(idx)) return false;
        if (tok_.type != Tok::kRBracket) {
          if (tok_.type == Tok::kError) return Fail(tok_.pos, tok_.error);
          return Fail(tok_.pos, "expected ']'");
        }
        size_t end = tok_.pos + 1;
        Advance();
        if (skip_) continue;
        const Value& base = out.get();
        const Value& i = idx.get();
        if (base.is_list()) {
          if (!i.is_int())
            return Fail(idx_pos, "a list index must be an integer, got " + Describe(i));
          int64_t n = i.as_int();
          int64_t size = static_cast<int64_t>(base.as_list().size());
          if (n < 0) n += size;
          if (n < 0 || n >= size)
            return Fail(idx_pos, "index " + std::to_string(i.as_int()) + " out of range for '" +
                                     std::string(s_.substr(start, idx_pos - 1 - start)) + "' (" +
                                     std::to_string(size) + " items)");
          Set(out, &base.as_list()[static_cast<size_t>(n)]);
        } else if (base.is_map()) {
          if (!i.is_scalar() || i.is_null())
            return Fail(idx_pos, "a map key must be a string, got " + Describe(i));
          std::string key = i.is_string() ? i.as_string() : i.ToString();
          const Value* v = base.as_map().Find(key);
          if (!v)
            return Fail(idx_pos, "no key " + Value(key).ToJson() + " in '" +
                                     std::string(s_.substr(start, idx_pos - 1 - start)) + "'");
          Set(out, v);
        } else {
          return Fail(idx_pos - 1, "cannot index '" +
                                       std::string(s_.substr(start, idx_pos - 1 - start)) + "' (" +
                                       Describe(base) + ")");
        }
        (void)end;
      }
    }
    return true;
  }

  // Points `out` at `v`, which lives inside out's current value: when out
  // owns that value, keep it alive by copying the child first.
  static void Set(Operand& out, const Value* v) {
    if (out.ref) {
      out.ref = v;
    } else {
      Value child = *v;
      out.owned = std::move(child);
    }
  }

  bool Walk(Operand& out, std::string_view key, size_t key_pos, size_t start) {
    const Value& base = out.get();
    std::string_view path = s_.substr(start, key_pos - 1 - start);
    while (!path.empty() && path.back() == ' ') path.remove_suffix(1);
    if (!base.is_map())
      return Fail(key_pos, "cannot take '" + std::string(key) + "' of '" + std::string(path) +
                               "' (" + Describe(base) + ", not a map)");
    const Value* v = base.as_map().Find(key);
    if (!v)
      return Fail(key_pos,
                  "undefined key '" + std::string(key) + "' in '" + std::string(path) + "'");
    Set(out, v);
    return true;
  }

  bool Atom(Operand& out) {
    switch (tok_.type) {
      case Tok::kString:
        out = Operand::Own(Value(std::move(tok_.str)));
        Advance();
        return true;
      case Tok::kInt:
        out = Operand::Own(Value(tok_.i));
        Advance();
        return true;
      case Tok::kDouble:
        out = Operand::Own(Value(tok_.d));
        Advance();
        return true;
      case Tok::kLParen: {
        Advance();
        if (!Or(out)) return false;
        if (tok_.type != Tok::kRParen) {
          if (tok_.type == Tok::kError) return Fail(tok_.pos, tok_.error);
          return Fail(tok_.pos, "expected ')'");
        }
        Advance();
        return true;
      }
      case Tok::kLBracket: {
        Advance();
        List items;
        while (tok_.type != Tok::kRBracket) {
          Operand item;
          if (!Or(item)) return false;
          if (!skip_) items.push_back(item.take());
          if (tok_.type == Tok::kComma) {
            Advance();
            continue;
          }
          if (tok_.type != Tok::kRBracket) {
            if (tok_.type == Tok::kError) return Fail(tok_.pos, tok_.error);
            return Fail(tok_.pos, "expected ',' or ']'");
          }
        }
        Advance();
        out = Operand::Own(Value(std::move(items)));
        return true;
      }
      case Tok::kIdent: {
        std::string_view name = tok_.text;
        size_t pos = tok_.pos;
        if (name == "true" || name == "True") {
          out = Operand::Own(Value(true));
        } else if (name == "false" || name == "False") {
          out = Operand::Own(Value(false));
        } else if (name == "null" || name == "None") {
          out = Operand::Own(Value());
        } else if (name == "and" || name == "or" || name == "not" || name == "in") {
          return Fail(pos, "expected a value, got '" + std::string(name) + "'");
        } else if (skip_) {
          out = Operand();
        } else {
          const Value* v = vars_.is_map() ? vars_.as_map().Find(name) : nullptr;
          if (!v) return Fail(pos, "undefined variable '" + std::string(name) + "'");
          out = Operand();
          out.ref = v;
        }
        Advance();
        return true;
      }
      case Tok::kEnd:
        return Fail(tok_.pos, "expected a value at the end of the expression");
      case Tok::kError:
        return Fail(tok_.pos, tok_.error);
      default:
        return Fail(tok_.pos, "expected a value, got '" + std::string(tok_.text) + "'");
    }
  }

  std::string_view s_;
  const Value& vars_;
  size_t p_ = 0;
  Token tok_;
  int skip_ = 0;
  int depth_ = 0;
  static constexpr int kMaxDepth = 200;
  std::string error_;
  size_t error_offset_ = 0;
};

// Offset of the "}}" closing an expression that starts at `from`, skipping
// string literals; npos when unclosed. *bad_quote: an unterminated string.
size_t FindClose(std::string_view s, size_t from, size_t* bad_quote) {
  for (size_t i = from; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"' || c == '\'') {
      size_t q = i + 1;
      while (q < s.size() && s[q] != c) q += (s[q] == '\\' ? 2 : 1);
      if (q >= s.size()) {
        *bad_quote = i;
        return std::string_view::npos;
      }
      i = q;
    } else if (c == '}' && i + 1 < s.size() && s[i + 1] == '}') {
      return i;
    }
  }
  return std::string_view::npos;
}

Result<Value> EvalAt(std::string_view text, size_t base, const Value& vars, size_t* error_offset) {
  Parser parser(text, vars);
  Value out;
  if (parser.Run(&out)) return out;
  if (error_offset) *error_offset = base + parser.error_offset();
  return MakeError(ErrorCode::kInvalid, parser.error());
}

}  // namespace

Result<Value> EvaluateExpression(std::string_view text, const Value& vars, size_t* error_offset) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
  if (i == text.size()) {
    if (error_offset) *error_offset = text.size();
    return MakeError(ErrorCode::kInvalid, "empty expression");
  }
  return EvalAt(text, 0, vars, error_offset);
}

Result<Value> Interpolate(std::string_view text, const Value& vars, size_t* error_offset,
                          ExprCache* cache) {
  size_t open = text.find("{{");
  if (open == std::string_view::npos) return Value(std::string(text));
  std::string out;
  size_t pos = 0;
  while (open != std::string_view::npos) {
    size_t bad_quote = std::string_view::npos;
    size_t close = FindClose(text, open + 2, &bad_quote);
    if (close == std::string_view::npos) {
      if (error_offset) *error_offset = bad_quote != std::string_view::npos ? bad_quote : open;
      return MakeError(ErrorCode::kInvalid, bad_quote != std::string_view::npos
                                                ? "unterminated string"
                                                : "unclosed '{{' (no matching '}}')");
    }
    std::string_view expr = text.substr(open + 2, close - open - 2);
    size_t first = expr.find_first_not_of(" \t\n");
    if (first == std::string_view::npos) {
      if (error_offset) *error_offset = open;
      return MakeError(ErrorCode::kInvalid, "empty '{{ }}'");
    }
    const Value* memo = cache ? cache->Find(expr) : nullptr;
    Result<Value> v = memo ? Result<Value>(*memo) : EvalAt(expr, open + 2, vars, error_offset);
    if (!v.ok()) return v.error();
    if (cache && !memo) cache->Put(expr, *v);
    if (open == 0 && close + 2 == text.size()) return std::move(v).value();  // keeps its type
    out.append(text.substr(pos, open - pos));
    if (v->is_string()) {
      out += v->as_string();
    } else {
      out += v->ToString();
    }
    pos = close + 2;
    open = text.find("{{", pos);
  }
  out.append(text.substr(pos));
  return Value(std::move(out));
}

std::string UndefinedVariableIn(std::string_view message) {
  constexpr std::string_view kPrefix = "undefined variable '";
  if (message.substr(0, kPrefix.size()) != kPrefix || message.size() < kPrefix.size() + 2 ||
      message.back() != '\'')
    return "";
  return std::string(message.substr(kPrefix.size(), message.size() - kPrefix.size() - 1));
}

bool IsTruthy(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return false;
    case ValueKind::kBool:
      return v.as_bool();
    case ValueKind::kInt:
      return v.as_int() != 0;
    case ValueKind::kDouble:
      return v.as_double() != 0;
    case ValueKind::kString:
      return !v.as_string().empty();
    case ValueKind::kList:
      return !v.as_list().empty();
    case ValueKind::kMap:
      return !v.as_map().empty();
  }
  return false;
}

namespace {

// Number vs string. A dotted version string ("6.10", "2.6.18") compares as
// a version against the number's text, so 6.4 < "6.10" as a release would;
// another numeric string compares numerically. nullopt: not comparable.
std::optional<int> CompareNumberString(const Value& num, const std::string& str) {
  if (IsDottedVersion(str) && HasDot(str)) {
    std::string text = num.ToString();
    if (IsDottedVersion(text)) return CompareVersions(text, str);
  }
  double d = 0;
  if (ParseNumeric(str, &d)) return Sign(num.as_double() - d);
  return std::nullopt;
}

}  // namespace

Result<int> CompareValues(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return CompareNumbers(a, b);
  if (a.is_string() && b.is_string()) {
    const std::string& x = a.as_string();
    const std::string& y = b.as_string();
    if (IsDottedVersion(x) && IsDottedVersion(y)) return CompareVersions(x, y);
    int c = x.compare(y);
    return c < 0 ? -1 : c > 0;
  }
  if (a.is_number() && b.is_string()) {
    if (auto c = CompareNumberString(a, b.as_string())) return *c;
  } else if (a.is_string() && b.is_number()) {
    if (auto c = CompareNumberString(b, a.as_string())) return -*c;
  }
  return MakeError(ErrorCode::kInvalid, "cannot compare " + Describe(a) + " with " + Describe(b));
}

bool LooseEquals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_string()) {
    auto c = CompareNumberString(a, b.as_string());
    return c && *c == 0;
  }
  if (a.is_string() && b.is_number()) return LooseEquals(b, a);
  return a == b;
}

}  // namespace keel
