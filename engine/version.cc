#include "engine/version.h"

namespace keel {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ".0", ".0.00", "": what a shorter version is missing to be equal.
bool OnlyZeroComponents(std::string_view rest) {
  size_t i = 0;
  while (i < rest.size()) {
    if (rest[i] != '.' || i + 1 == rest.size()) return false;
    ++i;
    if (rest[i] != '0') return false;
    while (i < rest.size() && rest[i] == '0') ++i;
  }
  return true;
}

}  // namespace

bool IsDottedVersion(std::string_view s) {
  if (s.empty() || !IsDigit(s.front()) || !IsDigit(s.back())) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;  // safe: the last char is a digit
    } else if (!IsDigit(s[i])) {
      return false;
    }
  }
  return true;
}

int CompareVersions(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (IsDigit(a[i]) && IsDigit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && IsDigit(a[ie])) ++ie;
      while (je < b.size() && IsDigit(b[je])) ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size() ? -1 : 1;
      if (int c = na.compare(nb)) return c < 0 ? -1 : 1;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j])
        return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
      ++i;
      ++j;
    }
  }
  std::string_view rest_a = a.substr(i), rest_b = b.substr(j);
  if (rest_a.empty() && rest_b.empty()) return 0;
  if (rest_a.empty()) return OnlyZeroComponents(rest_b) ? 0 : -1;
  return OnlyZeroComponents(rest_a) ? 0 : 1;
}

}  // namespace keel
