#include "resources/common/line_edits.h"

namespace keel::edit {

LineEdits::Op& LineEdits::At(const LineSpan& span) {
  Op& op = ops_[span.begin];
  op.end = span.end();
  return op;
}

void LineEdits::Replace(const LineSpan& span, std::string line) {
  Op& op = At(span);
  op.kind = Op::Kind::kReplace;
  op.text = std::move(line);
}

void LineEdits::Erase(const LineSpan& span) {
  Op& op = At(span);
  op.kind = Op::Kind::kErase;
  op.text.clear();
}

void LineEdits::InsertBefore(const LineSpan& span, std::string line) {
  At(span).before.push_back(std::move(line));
}

void LineEdits::Append(std::string line) { appended_.push_back(std::move(line)); }

// Every line written is followed by '\n'; at the end the last '\n' goes
// again when the result must lack a final newline (the text lacked it and
// nothing was appended). That is TextLines' join rule: lines joined by
// '\n', plus one after the last when final_newline.
std::string LineEdits::Render() const {
  std::string out;
  size_t extra = 0;
  for (const auto& [begin, op] : ops_) {
    extra += op.text.size() + 1;
    for (const auto& l : op.before) extra += l.size() + 1;
  }
  for (const auto& l : appended_) extra += l.size() + 1;
  out.reserve(text_.size() + extra + 1);
  size_t pos = 0;
  auto copy_to = [&](size_t end) {
    if (end <= pos) return;
    out.append(text_.substr(pos, end - pos));
    if (text_[end - 1] != '\n') out += '\n';  // the last line, unterminated
    pos = end;
  };
  for (const auto& [begin, op] : ops_) {
    copy_to(begin);
    for (const auto& l : op.before) (out += l) += '\n';
    if (op.kind == Op::Kind::kKeep) continue;  // only insertions here
    if (op.kind == Op::Kind::kReplace) (out += op.text) += '\n';
    pos = op.end < text_.size() ? op.end + 1 : text_.size();
  }
  copy_to(text_.size());
  for (const auto& l : appended_) (out += l) += '\n';
  if (appended_.empty() && !final_newline() && !out.empty()) out.pop_back();
  return out;
}

}  // namespace keel::edit
