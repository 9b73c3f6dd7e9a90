// The SIMD target API: names, forcing, refusing targets the machine lacks.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
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

// On x86 the family and model numbers come from CPUID; Linux prints the same numbers in
// /proc/cpuinfo ("cpu family", "model"), which is the reference here. cpu_model() names them,
// since a VM's model name alone ("AMD EPYC") does not tell Zen 3 from Zen 5.
TEST(Simd, CpuFamilyAndModelMatchProcCpuinfo) {
#if defined(__x86_64__) || defined(__i386__)
  std::ifstream in("/proc/cpuinfo");
  if (!in) GTEST_SKIP() << "no /proc/cpuinfo";
  int family = -1, model = -1;
  std::string line;
  while (std::getline(in, line) && (family < 0 || model < 0)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    if (key == "cpu family") family = std::stoi(line.substr(colon + 1));
    if (key == "model") model = std::stoi(line.substr(colon + 1));
  }
  if (family < 0 || model < 0) GTEST_SKIP() << "/proc/cpuinfo lists no family and model";
  const dme::CpuFamilyModel fm = dme::cpu_family_model();
  EXPECT_EQ(fm.family, family);
  EXPECT_EQ(fm.model, model);
  const std::string named =
      "(family " + std::to_string(family) + " model " + std::to_string(model) + ")";
  EXPECT_NE(dme::cpu_model().find(named), std::string::npos) << dme::cpu_model();
#else
  EXPECT_EQ(dme::cpu_family_model().family, 0);
#endif
}

}  // namespace
