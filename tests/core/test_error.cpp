#include <gtest/gtest.h>

#include "dme/core/error.h"

namespace {

int checked_sqrt_arg(int s) {
  DME_CHECK(s >= 2, "s must be at least 2, got " << s);
  return s;
}

TEST(Error, CheckThrowsWithMessageValueAndLocation) {
  try {
    checked_sqrt_arg(1);
    FAIL() << "no exception";
  } catch (const dme::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("s must be at least 2, got 1"), std::string::npos) << what;
    EXPECT_NE(what.find("test_error.cpp"), std::string::npos) << what;
    EXPECT_NE(what.find("checked_sqrt_arg"), std::string::npos) << what;
  }
  EXPECT_EQ(checked_sqrt_arg(3), 3);
}

TEST(Error, CarriesRank) {
  dme::Error e("bad value 7", 5);
  EXPECT_EQ(e.rank(), 5);
  EXPECT_EQ(e.message(), "bad value 7");
  EXPECT_STREQ(e.what(), "dme error (rank 5): bad value 7");
  dme::Error n("plain");
  EXPECT_EQ(n.rank(), dme::Error::kNoRank);
  EXPECT_STREQ(n.what(), "dme error: plain");
}

TEST(Error, AssertAbortsOnBrokenInvariant) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(DME_ASSERT(1 + 1 == 3), "assertion '1 \\+ 1 == 3' failed");
}

}  // namespace
