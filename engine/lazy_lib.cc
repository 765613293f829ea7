#include "engine/lazy_lib.h"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <mutex>

namespace keel::lazy {
namespace {

struct Info {
  const char* soname;
  const char* package;
};

// Sonames and packages come from the build (CMakeLists.txt reads the
// SONAME of each library found and the package that owns it).
constexpr std::array<Info, 5> kInfo{{
    {KEEL_SONAME_GIT2, KEEL_PACKAGE_GIT2},
    {KEEL_SONAME_GPGME, KEEL_PACKAGE_GPGME},
    {KEEL_SONAME_SSH2, KEEL_PACKAGE_SSH2},
    {KEEL_SONAME_RPMIO, KEEL_PACKAGE_RPMIO},
    {KEEL_SONAME_APTPKG, KEEL_PACKAGE_APTPKG},
}};

struct State {
  std::once_flag once;
  void* handle = nullptr;
  std::string error;
};
std::array<State, 5> g_state;

State& Load(Lib lib) {
  State& s = g_state[static_cast<size_t>(lib)];
  std::call_once(s.once, [&] {
    const Info& info = kInfo[static_cast<size_t>(lib)];
    s.handle = ::dlopen(info.soname, RTLD_NOW | RTLD_LOCAL);
    if (!s.handle) {
      const char* e = ::dlerror();
      s.error = std::string("cannot load ") + info.soname + ": " + (e ? e : "unknown error") +
                " (install the package " + info.package + ")";
    }
  });
  return s;
}

[[noreturn]] void Die(const std::string& message) {
  std::string line = "keel: " + message + "\n";
  (void)!::write(2, line.data(), line.size());
  ::_exit(1);
}

}  // namespace

const char* Soname(Lib lib) { return kInfo[static_cast<size_t>(lib)].soname; }
const char* Package(Lib lib) { return kInfo[static_cast<size_t>(lib)].package; }

Result<void> Require(Lib lib) {
  State& s = Load(lib);
  if (!s.handle) return MakeError(ErrorCode::kUnsupported, s.error);
  return {};
}

bool Loaded(Lib lib) {
  void* h = ::dlopen(kInfo[static_cast<size_t>(lib)].soname, RTLD_NOW | RTLD_NOLOAD);
  if (h) ::dlclose(h);
  return h != nullptr;
}

void* Symbol(Lib lib, const char* name) {
  State& s = Load(lib);
  if (!s.handle) Die(s.error);
  ::dlerror();
  void* p = ::dlsym(s.handle, name);
  if (!p) {
    const char* e = ::dlerror();
    Die(std::string("cannot find ") + name + " in " + Soname(lib) + ": " +
        (e ? e : "no such symbol") + " (a library of another version than keel was built for?)");
  }
  return p;
}

}  // namespace keel::lazy
