// The SIMD target API: names, forcing, refusing targets the machine lacks.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "dme/core/error.h"
#include "dme/core/simd.h"

namespace {

TEST(Simd, AutoPicksTheBestAvailable) {
  dme::set_simd_target("auto");
  const auto targets = dme::simd_targets_available();
  ASSERT_FALSE(targets.empty());
  // The baseline comes last: Highway's portable emulation on x86, NEON on aarch64 (where every
  // CPU has it, so the emulation is not compiled).
#if defined(__aarch64__)
  EXPECT_EQ(targets.back(), "neon");
#else
  EXPECT_EQ(targets.back(), "scalar");
#endif
  EXPECT_EQ(dme::simd_target(), targets.front());
}

TEST(Simd, EveryAvailableTargetCanBeForcedAndReported) {
  for (const std::string& t : dme::simd_targets_available()) {
    dme::set_simd_target(t);
    EXPECT_EQ(dme::simd_target(), t);
  }
  dme::set_simd_target("auto");
  EXPECT_EQ(dme::simd_target(), dme::simd_targets_available().front());
}

TEST(Simd, UnknownOrUnavailableTargetsThrowNamingTheChoices) {
  try {
    dme::set_simd_target("avx1024");
    FAIL() << "no throw";
  } catch (const dme::Error& e) {
    EXPECT_NE(e.message().find("avx1024"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("unknown"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("scalar"), std::string::npos) << e.message();
  }
  const auto targets = dme::simd_targets_available();
  for (std::string_view name : dme::kSimdTargetNames) {
    if (std::find(targets.begin(), targets.end(), name) != targets.end()) continue;
    try {
      dme::set_simd_target(name);
      FAIL() << name << " is not available but was accepted";
    } catch (const dme::Error& e) {
      EXPECT_NE(e.message().find("cannot run it"), std::string::npos) << e.message();
    }
  }
  EXPECT_EQ(dme::simd_target(), targets.front()) << "a refused target leaves the choice alone";
  dme::set_simd_target("auto");
}

}  // namespace
