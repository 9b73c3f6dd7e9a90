// Runs a test body under every SIMD target this machine supports (dme/core/simd.h), each in a
// SCOPED_TRACE naming it, then restores the automatic choice.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "dme/core/simd.h"

namespace dme::test {

template <class Fn>
void for_each_simd_target(Fn&& fn) {
  for (const std::string& target : dme::simd_targets_available()) {
    dme::set_simd_target(target);
    SCOPED_TRACE("SIMD target " + target);
    fn(target);
  }
  dme::set_simd_target("auto");
}

}  // namespace dme::test
