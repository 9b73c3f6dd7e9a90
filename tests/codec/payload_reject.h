// What the hostile-payload tests share (gtest): every decoder must reject a buffer, naming why.
#pragma once

#include <gtest/gtest.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dme/codec/detail/endian.h"
#include "dme/codec/payload.h"
#include "dme/core/error.h"

namespace dme::test {

/// Every decoder (decode, decode_accumulate) rejects buf with a dme::Error whose message
/// contains fragment (gtest failures otherwise).
inline void expect_all_reject(const std::vector<std::byte>& buf, const std::string& fragment) {
  auto check = [&](auto&& f, const char* who) {
    try {
      f();
      ADD_FAILURE() << who << " accepted the buffer (expected '" << fragment << "')";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << who << ": " << e.what();
    }
  };
  check([&] { decode(buf); }, "decode");
  std::vector<float> acc(1 << 12);
  const std::uint64_t count =
      buf.size() >= 64 ? detail::codec::load_le<std::uint64_t>(buf.data() + 56) : 0;
  acc.resize(std::min<std::uint64_t>(count, acc.size()));
  check([&] { decode_accumulate(buf, {}, std::span<float>(acc)); }, "decode_accumulate");
}

/// An edit that stores v at byte `offset` (little-endian).
template <class T>
auto put(std::size_t offset, T v) {
  return [=](std::vector<std::byte>& b) { detail::codec::store_le<T>(b.data() + offset, v); };
}

/// buf edited, its checksum recomputed (so that the checks behind it run), and then rejected by
/// every decoder, naming fragment.
template <class Edit>
void expect_edit_rejected(std::vector<std::byte> buf, const Edit& edit,
                          const std::string& fragment) {
  edit(buf);
  const std::size_t body = buf.size() - 8;
  detail::codec::store_le<std::uint64_t>(buf.data() + body, XXH3_64bits(buf.data(), body));
  SCOPED_TRACE(fragment);
  expect_all_reject(buf, fragment);
}

}  // namespace dme::test
