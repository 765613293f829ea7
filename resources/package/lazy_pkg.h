// librpmio and libapt-pkg, loaded on first use (engine/lazy_lib.h): only
// package version comparison needs them. Include instead of their headers.
#pragma once

#include <apt-pkg/debversion.h>
#include <rpm/rpmver.h>

#include "engine/lazy_lib.h"

// clang-format off
#define rpmverParse KEEL_LAZY(kRpmio, rpmverParse)
#define rpmverCmp KEEL_LAZY(kRpmio, rpmverCmp)
#define rpmverFree KEEL_LAZY(kRpmio, rpmverFree)
#define rpmvercmp KEEL_LAZY(kRpmio, rpmvercmp)
// clang-format on
