// Error, ErrorCode and Result<T>: the std::expected-shaped return type used
// across keel (GCC 12 has no std::expected). No exceptions cross modules.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace keel {

enum class ErrorCode {
  kInvalid,      // bad input: manifest, attribute value, malformed file
  kNotFound,     // a thing that must exist does not
  kIo,           // a system call failed
  kCommand,      // a command exited with a failure status
  kConflict,     // two owners, a lock held by another run
  kTimeout,      // a command or a lock wait ran out of time
  kUnsupported,  // the host lacks what is needed
  kInternal,     // a bug in keel
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  /// Prepends context: Error{.., "Permission denied"}.Context("reading /x")
  /// gives "reading /x: Permission denied".
  Error& Context(const std::string& ctx) {
    message = ctx + ": " + message;
    return *this;
  }
};

inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(implicit)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error& error() {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT(implicit)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return err_;
  }
  Error& error() {
    assert(!ok_);
    return err_;
  }

 private:
  Error err_;
  bool ok_ = true;
};

}  // namespace keel

/// Returns the error of `expr` (a Result) from the enclosing function.
#define KEEL_TRY(expr)                                 \
  do {                                                 \
    auto keel_try_r_ = (expr);                         \
    if (!keel_try_r_.ok()) return keel_try_r_.error(); \
  } while (0)
