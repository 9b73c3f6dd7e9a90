// dme::h5 handles: checked calls with HDF5's error text, attributes of every kind, datasets,
// creation order, and the close discipline.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "dme/core/error.h"
#include "dme/io/hdf5.h"
#include "temp_dir.h"

namespace {

using dme::AttrValue;
using dme::testing::TempDir;
namespace h5 = dme::h5;

std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const dme::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Hdf5, FailedCallNamesOperationPathAndHdf5Stack) {
  TempDir dir("hdf5_err");
  const std::string path = dir.file("missing.h5");
  const std::string what = error_text([&] { h5::File::open(path, false); });
  EXPECT_NE(what.find("H5Fopen"), std::string::npos) << what;
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("unable to open file"), std::string::npos) << what;  // HDF5's own text
  EXPECT_TRUE(h5::error_stack_text().empty()) << "the stack is cleared after a failure";
}

TEST(Hdf5, HandlesMoveAndClose) {
  TempDir dir("hdf5_move");
  h5::File file = h5::File::create(dir.file("a.h5"));
  const hid_t id = file.get();
  h5::File moved = std::move(file);
  EXPECT_FALSE(file.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is tested
  EXPECT_EQ(moved.get(), id);
  moved.close();
  EXPECT_FALSE(moved.valid());
  moved.close();  // a second close is a no-op
  EXPECT_TRUE(h5::File::is_hdf5(dir.file("a.h5")));
}

TEST(Hdf5, CloseWithOpenObjectIsReportedNotSilentlyDeferred) {
  TempDir dir("hdf5_semi");
  h5::File file = h5::File::create(dir.file("a.h5"));
  {
    h5::Group group = h5::Group::create(h5::Group::root(file), "g");
    EXPECT_THROW(file.close(), dme::Error);  // H5F_CLOSE_SEMI: the group is still open
    EXPECT_TRUE(file.valid());
  }
  file.close();
  EXPECT_FALSE(file.valid());
}

TEST(Hdf5, AttributesOfEveryKindRoundTrip) {
  TempDir dir("hdf5_attr");
  const std::string path = dir.file("a.h5");
  const std::vector<std::pair<std::string, AttrValue>> values = {
      {"i", std::int64_t{-42}},
      {"i_min", std::numeric_limits<std::int64_t>::min()},
      {"i_max", std::numeric_limits<std::int64_t>::max()},
      {"x", 0.1},
      {"x_inf", -std::numeric_limits<double>::infinity()},
      {"x_denorm", std::numeric_limits<double>::denorm_min()},
      {"s", std::string("μ = 0, σ = ½")},
      {"s_empty", std::string()},
      {"vi", std::vector<std::int64_t>{1, -2, 3}},
      {"vi_one", std::vector<std::int64_t>{7}},  // stays a vector, not a scalar
      {"vi_empty", std::vector<std::int64_t>{}},
      {"vx", std::vector<double>{1.5, -0.0, 1e300}},
      {"vx_empty", std::vector<double>{}},
      {"vs", std::vector<std::string>{"a", "", "long string with spaces"}},
      {"vs_empty", std::vector<std::string>{}},
  };
  {
    h5::File file = h5::File::create(path);
    {
      h5::Group root = h5::Group::root(file);
      for (const auto& [name, value] : values) root.write_attribute(name, value);
      const std::uint64_t seeds[] = {1, std::uint64_t{1} << 63 | 5};
      root.write_attribute("seeds", seeds);
      EXPECT_THROW(root.write_attribute("i", std::int64_t{1}), dme::Error);  // never overwritten
    }
    file.close();
  }
  h5::File file = h5::File::open(path, false);
  h5::Group root = h5::Group::root(file);
  for (const auto& [name, value] : values) {
    EXPECT_EQ(root.read_attribute(name), value) << name;
  }
  const auto seeds = std::get<std::vector<std::int64_t>>(root.read_attribute("seeds"));
  ASSERT_EQ(seeds.size(), 2u);
  EXPECT_EQ(static_cast<std::uint64_t>(seeds[1]), std::uint64_t{1} << 63 | 5);  // bits kept
  EXPECT_EQ(root.attribute_names().size(), values.size() + 1);
  EXPECT_TRUE(root.has_attribute("vs"));
  EXPECT_FALSE(root.has_attribute("nope"));
  const std::string what = error_text([&] { root.read_attribute("nope"); });
  EXPECT_NE(what.find("attribute 'nope'"), std::string::npos) << what;
}

TEST(Hdf5, ReadsForeignAttributeTypes) {
  // Attributes as other writers store them: 32-bit integers, float32, fixed-length strings.
  TempDir dir("hdf5_foreign");
  const std::string path = dir.file("a.h5");
  {
    h5::File file = h5::File::create(path);
    const hid_t root = file.get();
    const hid_t scalar = H5Screate(H5S_SCALAR);
    const hsize_t two[1] = {2};
    const hid_t pair = H5Screate_simple(1, two, nullptr);
    const std::int32_t i32[2] = {-3, 4};
    hid_t a = H5Acreate2(root, "i32", H5T_STD_I32BE, pair, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, i32);
    H5Aclose(a);
    const float f = 0.25f;
    a = H5Acreate2(root, "f32", H5T_IEEE_F32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_FLOAT, &f);
    H5Aclose(a);
    const hid_t fixed = H5Tcopy(H5T_C_S1);
    H5Tset_size(fixed, 6);
    H5Tset_strpad(fixed, H5T_STR_NULLPAD);
    const char cells[12] = {'a', 'b', 'c', 0, 0, 0, 'x', 'y', 'z', 'u', 'v', 'w'};
    a = H5Acreate2(root, "fixed", fixed, pair, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, fixed, cells);
    H5Aclose(a);
    H5Tclose(fixed);
    H5Sclose(pair);
    H5Sclose(scalar);
    file.close();
  }
  h5::File file = h5::File::open(path, false);
  EXPECT_EQ(file.read_attribute("i32"), AttrValue(std::vector<std::int64_t>{-3, 4}));
  EXPECT_EQ(file.read_attribute("f32"), AttrValue(0.25));
  EXPECT_EQ(file.read_attribute("fixed"), AttrValue(std::vector<std::string>{"abc", "xyzuvw"}));
}

TEST(Hdf5, DatasetsRoundTripAndReadBlocks) {
  TempDir dir("hdf5_ds");
  const std::string path = dir.file("a.h5");
  std::vector<double> matrix(3 * 7);
  for (std::size_t i = 0; i < matrix.size(); ++i) matrix[i] = 0.5 * static_cast<double>(i) - 3;
  const std::vector<float> vec = {1.5f, -2.25f, 3.0f};
  {
    h5::File file = h5::File::create(path);
    {
      h5::Group root = h5::Group::root(file);
      const hsize_t dims2[2] = {3, 7}, dims1[1] = {3}, dims0[1] = {0};
      h5::Dataset::create(root, "m", dims2, std::span<const double>(matrix));
      h5::Dataset::create(root, "v", dims1, std::span<const float>(vec));
      h5::Dataset::create(root, "empty", dims0, std::span<const double>());
      EXPECT_THROW(h5::Dataset::create(root, "m", dims1, std::span<const float>(vec)), dme::Error);
    }
    file.close();
  }
  h5::File file = h5::File::open(path, false);
  h5::Dataset m = h5::Dataset::open(file, "m");
  EXPECT_EQ(m.dims(), (std::vector<hsize_t>{3, 7}));
  EXPECT_EQ(m.read_doubles(), matrix);
  const hsize_t start[2] = {2, 1}, count[2] = {1, 4};
  const std::vector<float> block = m.read_floats(start, count);
  ASSERT_EQ(block.size(), 4u);
  for (std::size_t j = 0; j < 4; ++j)
    EXPECT_EQ(block[j], static_cast<float>(matrix[2 * 7 + 1 + j]));
  EXPECT_EQ(h5::Dataset::open(file, "v").read_doubles(), (std::vector<double>{1.5, -2.25, 3.0}));
  EXPECT_TRUE(h5::Dataset::open(file, "empty").read_doubles().empty());
}

TEST(Hdf5, ChildrenListedInCreationOrder) {
  TempDir dir("hdf5_order");
  const std::string path = dir.file("a.h5");
  {
    h5::File file = h5::File::create(path);
    {
      h5::Group root = h5::Group::root(file);
      for (const char* name : {"zeta", "alpha", "mid"}) h5::Group::create(root, name);
      h5::Group zeta = h5::Group::open(root, "zeta");
      const hsize_t one[1] = {1};
      const double x = 1;
      h5::Dataset::create(zeta, "b", one, std::span<const double>(&x, 1));
      h5::Dataset::create(zeta, "a", one, std::span<const double>(&x, 1));
    }
    file.close();
  }
  h5::File file = h5::File::open(path, false);
  h5::Group root = h5::Group::root(file);
  EXPECT_EQ(root.child_names(), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  EXPECT_TRUE(root.has_child("mid"));
  EXPECT_FALSE(root.has_child("beta"));
  EXPECT_EQ(root.child_type("mid"), H5I_GROUP);
  h5::Group zeta = h5::Group::open(root, "zeta");
  EXPECT_EQ(zeta.child_names(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(zeta.child_type("a"), H5I_DATASET);
  EXPECT_EQ(zeta.where(), path + ":/zeta");
}

TEST(Hdf5, IsHdf5DistinguishesOtherFiles) {
  TempDir dir("hdf5_is");
  const std::string text = dir.file("t.txt");
  { std::ofstream(text) << "not hdf5\n"; }
  EXPECT_FALSE(h5::File::is_hdf5(text));
  EXPECT_THROW(h5::File::is_hdf5(dir.file("missing.h5")), dme::Error);
}

}  // namespace
