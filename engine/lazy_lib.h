// Libraries loaded on first use (dlopen), not at start: libgit2, gpgme and
// libssh2 (only `--git` needs them), librpmio and libapt-pkg (only package
// version comparison). Linked normally, their loading and initialisers cost
// every run about 14 million instructions, more than a no-op apply of 200
// resources spends on its own work; a run that does not use them now never
// maps them.
//
// Use: a source that calls such a library includes its header through one of
// the lazy headers (engine/lazy_git.h, resources/package/lazy_pkg.h), which
// redefine each function name used as a macro naming a forwarder:
// `git_clone(...)` becomes a call through a pointer resolved by dlsym on the
// first call. The forwarder has the function's exact type (deduced from the
// library's own declaration), so it can also be passed as a function
// pointer. Call Require() first where a clear error can be returned: a
// forwarder whose library cannot be loaded ends the process with a message
// naming the library and the package to install (exit 1).
#pragma once

#include <cstddef>
#include <string>

#include "engine/result.h"

namespace keel::lazy {

enum class Lib { kGit2, kGpgme, kSsh2, kRpmio, kAptPkg };

/// The library's soname (as found at build time) and its Debian package.
const char* Soname(Lib lib);
const char* Package(Lib lib);

/// Loads the library now (once; thread-safe). Error: "cannot load
/// <soname>: <dlerror> (install the package <package>)".
Result<void> Require(Lib lib);
/// True when the library is loaded in this process (tests).
bool Loaded(Lib lib);

/// The address of `name` in `lib`, loading it first. Never null: a library
/// or symbol that cannot be found ends the process (exit 1) with a message.
void* Symbol(Lib lib, const char* name);

/// A symbol name as a template argument.
template <size_t N>
struct Name {
  char s[N];
  constexpr Name(const char (&a)[N]) {
    for (size_t i = 0; i < N; ++i) s[i] = a[i];
  }
};

template <typename F, Lib L, Name N>
struct Fn;
template <typename R, typename... A, Lib L, Name N>
struct Fn<R (*)(A...), L, N> {
  static R Call(A... a) {
    static auto* const f = reinterpret_cast<R (*)(A...)>(Symbol(L, N.s));
    return f(a...);
  }
};
// C variadic functions (git_libgit2_opts): the extra arguments are passed on
// as given (default argument promotions apply as for the direct call).
template <typename R, typename... A, Lib L, Name N>
struct Fn<R (*)(A..., ...), L, N> {
  template <typename... V>
  static R Call(A... a, V... v) {
    static auto* const f = reinterpret_cast<R (*)(A..., ...)>(Symbol(L, N.s));
    return f(a..., v...);
  }
};

}  // namespace keel::lazy

/// The forwarder of function `fn` of library `lib` (a keel::lazy::Lib
/// enumerator name): `#define git_x KEEL_LAZY(kGit2, git_x)`.
#define KEEL_LAZY(lib, fn) \
  (::keel::lazy::Fn<decltype(&::fn), ::keel::lazy::Lib::lib, ::keel::lazy::Name(#fn)>::Call)
