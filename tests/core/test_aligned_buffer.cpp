#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include <sys/mman.h>

#include "dme/core/aligned_buffer.h"

TEST(AlignedBuffer, DataIsCacheLineAligned) {
  for (std::size_t n : {1u, 3u, 17u, 1000u, 1u << 20}) {
    dme::AlignedVector<float> v(n, 1.0f);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % dme::kAlignment, 0u) << n;
    EXPECT_EQ(v.back(), 1.0f);
  }
}

namespace {
// The VmFlags of the mapping that holds p, from /proc/self/smaps ("" where unreadable).
std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &lo, &hi) == 2 && line.find(':') > 8) {
      inside = at >= lo && at < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line.substr(8) + " ";
    }
  }
  return "";
}
}  // namespace

TEST(AlignedBuffer, LargeBuffersGetThePageAdviceOfTheirKind) {
  const std::size_t n = (std::size_t(4) << 20) / sizeof(float);  // 4 MiB: past the threshold
  dme::AlignedVector<float> huge(n, 1.0f);
  dme::TransformVector<float> small(n, 2.0f);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(huge.data()) % dme::kHugePageBytes, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small.data()) % dme::kSmallPageBytes, 0u);
  EXPECT_EQ(huge.back(), 1.0f);
  EXPECT_EQ(small.back(), 2.0f);
  dme::TransformVector<float> tiny(5, 3.0f);  // below the threshold: cache-line aligned only
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(tiny.data()) % dme::kAlignment, 0u);
  const std::string huge_flags = vm_flags_of(huge.data()), small_flags = vm_flags_of(small.data());
  if (huge_flags.empty() || small_flags.empty()) GTEST_SKIP() << "no /proc/self/smaps here";
  // A kernel without transparent huge pages refuses the advice, and an emulator (qemu-user)
  // may take it and drop it: a mapping of our own, advised directly, shows which.
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"))
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  const std::size_t probe_bytes = std::size_t(4) << 20;
  void* probe =
      ::mmap(nullptr, probe_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(probe, MAP_FAILED);
  const bool honoured = ::madvise(probe, probe_bytes, MADV_HUGEPAGE) == 0 &&
                        vm_flags_of(probe).find(" hg ") != std::string::npos;
  ::munmap(probe, probe_bytes);
  if (!honoured) GTEST_SKIP() << "page advice is not kept here (an emulator?)";
  // smaps names MADV_HUGEPAGE "hg" and MADV_NOHUGEPAGE "nh".
  EXPECT_NE(huge_flags.find(" hg "), std::string::npos) << huge_flags;
  EXPECT_NE(small_flags.find(" nh "), std::string::npos) << small_flags;
}
