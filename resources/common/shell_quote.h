// Shell-style KEY=value assignments (/etc/sysconfig/*, /etc/default/grub,
// ifcfg files): parsing one assignment the way bash evaluates it, and
// quoting a value so that `source FILE` gives back exactly that value.
// Pure: strings in, strings out.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace keel::shell {

/// How a value is written. kNone: bare word; kDouble: "..."; kSingle: '...'.
enum class QuoteStyle { kNone, kDouble, kSingle };

/// "auto" is not a style: it is the choice AutoStyle makes.
/// Parses "auto"|"double"|"single"|"none"; nullopt for auto or anything else.
std::optional<QuoteStyle> ParseStyle(std::string_view text);

/// One `[indent][export ]KEY=value[ trailer]` line (or several lines when a
/// quoted value holds a newline). Every part is kept as written, so that
/// Render() with the same raw_value gives the input back byte for byte.
struct Assignment {
  std::string indent;    // leading blanks
  std::string exported;  // "export " with its exact blanks, or ""
  std::string key;
  std::string raw_value;  // the value as written, quotes included
  std::string trailer;    // what follows the value: blanks, "# comment", "; ..."
  std::string eol;        // "\r" of a CRLF line, else ""

  std::string value;                     // the value as bash evaluates it
  bool dynamic = false;                  // holds an expansion ($x, `cmd`, ~): value unknown
  QuoteStyle style = QuoteStyle::kNone;  // first quoting used in raw_value

  std::string Render() const { return indent + exported + key + "=" + raw_value + trailer + eol; }
};

enum class ParseStatus { kAssignment, kOther, kUnterminated };

/// Parses `text` (one line without its '\n', or several lines joined by '\n'
/// when an earlier call said kUnterminated). kOther: a comment, a blank line
/// or any other shell (`A=1 cmd`, `if ...`) — not an assignment keel edits.
/// kUnterminated: a quote (or a trailing backslash) continues on the next line.
ParseStatus ParseAssignment(std::string_view text, Assignment& out);

/// True when `value` can be written as a bare word (and stays itself).
bool SafeUnquoted(std::string_view value);

/// Quote style of "auto": none when safe; else single quotes when the value
/// holds $ ` " \ (no escaping needed) and no '; else double quotes.
QuoteStyle AutoStyle(std::string_view value);

/// The raw text of `value` in `style`. kNone with an unsafe value falls back
/// to AutoStyle (callers validate "none" earlier). kSingle with a ' inside
/// writes 'it'\''s'. kDouble escapes $ ` " \ with a backslash.
std::string Quote(std::string_view value, QuoteStyle style);

/// The style to write a changed value in: `requested` when given; else the
/// existing line's style (kNone is upgraded to AutoStyle when the new value
/// is not safe bare); else AutoStyle. An empty value is written "" in auto.
QuoteStyle ChooseStyle(std::optional<QuoteStyle> requested, std::optional<QuoteStyle> existing,
                       std::string_view value);

enum class Scan { kOk, kUnterminated, kUnsure };

/// Where an expansion ends, as bash finds it: `i` is just past the opener
/// (`$(`, `${`, a backquote, a double quote; `in_dq` when inside double
/// quotes) and ends just past `close`. Quotes, escapes and nested
/// expansions inside are skipped whole. kUnterminated: the text ends first;
/// kUnsure: bash's rules there are beyond this scanner (a comment, a
/// here-document or `case` inside `$( )`, deep nesting, ...).
Scan ScanExpansion(std::string_view v, size_t& i, char close, bool in_dq, int depth = 0);

/// True when `key` is a valid shell variable name.
bool ValidKey(std::string_view key);

}  // namespace keel::shell
