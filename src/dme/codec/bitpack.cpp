#include "dme/codec/bitpack.h"

#include <algorithm>
#include <bit>

#include "dme/codec/detail/checked.h"
#include "dme/codec/detail/code_reader.h"
#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/fixed_width.h"
#include "dme/codec/detail/mixed_radix.h"
#include "dme/core/error.h"

namespace dme {

using namespace detail::codec;

double CodeLayout::bits_per_code() const {
  return packing == Packing::kFixedWidth ? double(bits) : 64.0 / double(digits_per_word);
}

unsigned max_digits_per_word(std::uint32_t s) {
  DME_CHECK(s >= 2 && s <= kMaxRadix,
            "s (the number of code values) must be in 2.." << kMaxRadix << ", got " << s);
  unsigned k = 0;
  for (std::uint64_t p = 1; !__builtin_mul_overflow(p, std::uint64_t(s), &p);) ++k;
  return k;
}

CodeLayout choose_layout(std::uint32_t s) {
  const unsigned k = max_digits_per_word(s);                                 // checks s
  const unsigned fixed_bits = static_cast<unsigned>(std::bit_width(s - 1));  // ceil(log2 s)
  // 64 / k < fixed_bits, in integers; a tie keeps the faster fixed width.
  if (64 < std::uint64_t(fixed_bits) * k) return CodeLayout{Packing::kMixedRadix, s, 0, k};
  return CodeLayout{Packing::kFixedWidth, s, fixed_bits, 0};
}

void check_layout(const CodeLayout& layout) {
  const unsigned k_max = max_digits_per_word(layout.s);  // checks s
  if (layout.packing == Packing::kFixedWidth) {
    DME_CHECK(layout.bits >= 1 && layout.bits <= 16,
              "fixed-width code layout needs 1..16 bits per code, got " << layout.bits);
    DME_CHECK(layout.s <= (std::uint64_t(1) << layout.bits),
              "fixed-width code layout of " << layout.bits << " bits cannot hold s = " << layout.s);
  } else {
    DME_CHECK(layout.packing == Packing::kMixedRadix,
              "unknown code packing " << int(static_cast<std::uint8_t>(layout.packing)));
    DME_CHECK(layout.digits_per_word >= 1 && layout.digits_per_word <= k_max,
              "mixed-radix code layout for s = " << layout.s << " holds 1.." << k_max
                                                 << " digits per word, got "
                                                 << layout.digits_per_word);
  }
}

std::string to_string(const CodeLayout& layout) {
  if (layout.packing == Packing::kFixedWidth) return "fixed" + std::to_string(layout.bits);
  return "radix" + std::to_string(layout.digits_per_word);
}

std::size_t packed_bytes(std::size_t count, const CodeLayout& layout) {
  check_layout(layout);
  if (layout.packing == Packing::kMixedRadix)
    return checked_mul(ceil_div(count, layout.digits_per_word), 8, "packed codes");
  // Whole groups of 8 codes take `bits` bytes; the rest rounds up to a byte.
  return checked_add(checked_mul(count / 8, layout.bits, "packed codes"),
                     ((count % 8) * layout.bits + 7) / 8, "packed codes");
}

void pack_codes(std::span<const std::uint16_t> codes, const CodeLayout& layout,
                std::span<std::byte> out) {
  const std::size_t bytes = packed_bytes(codes.size(), layout);  // checks the layout
  DME_CHECK(out.size() == bytes, "pack_codes: output of " << out.size() << " bytes for "
                                                          << codes.size() << " codes in layout "
                                                          << to_string(layout) << ", expected "
                                                          << bytes);
  const std::size_t bad = find_code_at_least(codes.data(), codes.size(), layout.s);
  DME_CHECK(bad == SIZE_MAX,
            "pack_codes: code " << bad << " is " << codes[bad] << ", not below s = " << layout.s);
  if (layout.packing == Packing::kFixedWidth) {
    pack_fixed(codes.data(), codes.size(), layout.bits, out.data());
  } else {
    const RadixTable t = make_radix_table(layout.s, layout.digits_per_word);
    pack_radix(codes.data(), codes.size(), t, out.data());
  }
}

void unpack_codes(std::span<const std::byte> in, const CodeLayout& layout,
                  std::span<std::uint16_t> codes) {
  CodeReader reader(in, layout, codes.size());
  reader.check_stream();
  reader.read(0, codes.size(), codes.data());
  if (layout.packing == Packing::kFixedWidth && layout.s < (1u << layout.bits)) {
    const std::size_t bad = find_code_at_least(codes.data(), codes.size(), layout.s);
    DME_CHECK(bad == SIZE_MAX, "unpack_codes: code " << bad << " is " << codes[bad]
                                                     << ", not below s = " << layout.s);
  }
}

namespace detail::codec {

CodeReader::CodeReader(std::span<const std::byte> in, const CodeLayout& layout, std::size_t count)
    : in_(in), layout_(layout), count_(count) {
  const std::size_t bytes = packed_bytes(count, layout);  // checks the layout
  DME_CHECK(in.size() == bytes, "packed codes: " << in.size() << " bytes for " << count
                                                 << " codes in layout " << to_string(layout)
                                                 << ", expected " << bytes);
  if (layout.packing == Packing::kMixedRadix) {
    group_ = layout.digits_per_word;
    radix_ = make_radix_table(layout.s, layout.digits_per_word);
  } else {
    group_ = 8;
  }
}

void CodeReader::check_stream() const {
  if (layout_.packing == Packing::kMixedRadix) {
    const std::size_t bad = find_bad_radix_word(in_.data(), count_, radix_);
    DME_CHECK(bad == SIZE_MAX,
              "packed codes: mixed-radix word "
                  << bad << " is " << load_le<std::uint64_t>(in_.data() + 8 * bad)
                  << ", not below s^digits = " << layout_.s << "^"
                  << std::min<std::size_t>(layout_.digits_per_word, count_ - bad * group_));
    return;
  }
  const unsigned used = static_cast<unsigned>((count_ % 8) * layout_.bits % 8);
  if (used) {
    const unsigned last = std::to_integer<unsigned>(in_.back());
    DME_CHECK((last >> used) == 0,
              "packed codes: padding bits after the last code are not zero "
              "(last byte 0x"
                  << std::hex << last << ")");
  }
}

void CodeReader::read(std::size_t first, std::size_t n, std::uint16_t* out) const {
  DME_ASSERT(first % group_ == 0 && first <= count_ && n <= count_ - first);
  const std::size_t offset =
      layout_.packing == Packing::kMixedRadix ? first / group_ * 8 : first / 8 * layout_.bits;
  if (layout_.packing == Packing::kMixedRadix) {
    unpack_radix(in_.data() + offset, n, radix_, out);
  } else {
    unpack_fixed(in_.data() + offset, in_.size() - offset, layout_.bits, n, out);
  }
}

std::size_t find_code_at_least(const std::uint16_t* codes, std::size_t n, std::uint32_t bound) {
  if (bound > 0xFFFF) return SIZE_MAX;
  // A vectorised maximum (fixed_width.cpp); the position is searched only on failure.
  if (n == 0 || max_code(codes, n) < bound) return SIZE_MAX;
  return static_cast<std::size_t>(
      std::find_if(codes, codes + n, [&](std::uint16_t c) { return c >= bound; }) - codes);
}

}  // namespace detail::codec
}  // namespace dme
