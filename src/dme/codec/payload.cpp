#include "dme/codec/payload.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>

#include "dme/codec/bitpack.h"
#include "dme/codec/detail/checked.h"
#include "dme/codec/detail/code_reader.h"
#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/fixed_width.h"
#include "dme/codec/detail/level_lookup.h"
#include "dme/codec/detail/mixed_radix.h"
#include "dme/codec/detail/payload_format.h"
#include "dme/codec/detail/two_width.h"
#include "dme/core/detail/philox_words.h"
#include "dme/core/error.h"
#include "dme/core/parallel.h"
#include "dme/core/rng.h"
#include "dme/quantization/lloyd_max.h"
#include "dme/quantization/quic_fl.h"
#include "dme/quantization/norm_grid.h"

namespace dme {

using namespace detail::codec;

namespace {

/// The wire header of a payload about to be encoded, after validating header and levels.
WireHeader plan(const PayloadHeader& h, const LevelTable& levels) {
  validate_header(h);
  validate_level_table(levels, h);
  WireHeader w;
  w.header = h;
  w.layout = choose_layout(h.s);
  w.buckets = num_buckets(h);
  w.levels = levels.values.size() + levels.exact.size();  // kind 3: value and index
  w.sections = section_offsets(w.buckets, w.levels, h, w.layout);
  return w;
}

/// A bound that every code of a stream that passed CodeReader::check_stream is below, so that
/// buckets with at least that many levels need no per-code check.
std::uint64_t guaranteed_code_bound(const CodeLayout& layout) {
  return layout.packing == Packing::kFixedWidth ? std::uint64_t(1) << layout.bits : layout.s;
}

CodeReader code_reader(std::span<const std::byte> buf, const WireHeader& w) {
  const Sections& sec = w.sections;
  CodeReader reader(buf.subspan(sec.codes, sec.codes_bytes), w.layout, w.header.count);
  reader.check_stream();
  check_zero_padding(buf, sec.codes + sec.codes_bytes, sec.checksum, "codes");
  return reader;
}

// Codes are unpacked in chunks that stay in L1 and start at a group boundary.
constexpr std::size_t kChunkCodes = 2048;
constexpr std::size_t kChunkBuffer = kChunkCodes + RadixTable::kMaxDigits;
// Chunks per task when decoding on several threads.
constexpr std::size_t kTaskChunks = 16;

// Mixed radix: chunks of whole batches of this many words where they fit, so that the vector
// kernels (mixed_radix.cpp: 8, 16 or 32 words at once) never compute a partial batch inside a
// stream.
constexpr std::size_t kBatchWords = 32;

std::size_t chunk_codes(const CodeReader& reader) {
  const std::size_t group = reader.group();
  const std::size_t batch = kBatchWords * group;
  const std::size_t unit = group > 8 && batch <= kChunkCodes ? batch : group;
  return (kChunkCodes / unit) * unit;
}

/// check_codes_in_buckets without materialising the codes: only the buckets with fewer levels
/// than the stream's guaranteed bound are unpacked (for s-level buckets, none).
void check_codes_chunked(const CodeReader& reader, const PayloadHeader& h, const LevelTable& levels,
                         std::uint64_t always_below) {
  // Kind 5: every bucket has s levels, so the stream is one run against s.
  const bool one_run = h.kind == PayloadKind::kNormGrid;
  const std::uint64_t size = one_run ? std::max<std::uint64_t>(h.count, 1) : bucket_length(h);
  const std::size_t chunk = chunk_codes(reader);
  std::uint16_t buf[kChunkBuffer];
  for (std::size_t b = 0, buckets = one_run ? 1 : num_buckets(h); b < buckets; ++b) {
    const std::uint32_t n = bucket_level_count(levels, h, b);
    if (n >= always_below) continue;
    const std::uint64_t begin = b * size, end = std::min(h.count, begin + size);
    for (std::uint64_t start = begin - begin % reader.group(); start < end; start += chunk) {
      const std::size_t len = std::min<std::uint64_t>(chunk, end - start);
      reader.read(start, len, buf);
      const std::size_t lo = std::max(begin, start) - start;
      const std::size_t hi = std::min<std::uint64_t>(end - start, len);
      const std::size_t bad = find_code_at_least(buf + lo, hi - lo, n);
      DME_CHECK(bad == SIZE_MAX, "code of coordinate " << h.first + start + lo + bad << " is "
                                                       << buf[lo + bad] << ", but its bucket " << b
                                                       << " has " << n << " levels");
    }
  }
}

/// Kind 5: acc[i] += fl(norm · unit[codes[i]]) for i < n, through a table of the s products
/// when the run is at least s long (kept in `scaled` for the next run of the same bucket).
template <class T>
void add_norm_grid(T* acc, std::span<const float> unit, float norm, std::uint64_t bucket,
                   const std::uint16_t* codes, std::size_t n, std::vector<float>& scaled,
                   std::uint64_t& scaled_bucket) {
  if (n < unit.size()) {
    for (std::size_t i = 0; i < n; ++i) acc[i] += static_cast<T>(norm * unit[codes[i]]);
    return;
  }
  if (scaled_bucket != bucket) {
    scaled.resize(unit.size());
    for (std::size_t t = 0; t < unit.size(); ++t) scaled[t] = norm * unit[t];
    scaled_bucket = bucket;
  }
  add_levels(acc, scaled.data(), static_cast<std::uint32_t>(unit.size()), codes, n);
}

template <class T>
void accumulate_chunks(const CodeReader& reader, const PayloadHeader& h, const LevelTable& levels,
                       T* acc) {
  const std::uint64_t size = bucket_length(h);
  const std::size_t chunk = chunk_codes(reader);
  const bool grid = h.kind == PayloadKind::kNormGrid;
  const std::vector<float> unit = grid ? norm_grid_unit(h.s) : std::vector<float>();
  // Tasks of kTaskChunks chunks on the threads (dme/core/parallel.h): each adds to its own
  // coordinates.
  const std::uint64_t span = chunk * kTaskChunks;
  parallel_for(ceil_div(h.count, span), [&](std::size_t k, unsigned) {
    std::uint16_t buf[kChunkBuffer];
    std::vector<float> scaled;  // kind 5
    std::uint64_t scaled_bucket = UINT64_MAX;
    const std::uint64_t stop = std::min<std::uint64_t>(h.count, (k + 1) * span);
    for (std::uint64_t start = k * span; start < stop; start += chunk) {
      const std::size_t len = std::min<std::uint64_t>(chunk, h.count - start);
      reader.read(start, len, buf);
      T* a = acc + start;
      for (std::size_t i = 0; i < len;) {
        const std::uint64_t b = (start + i) / size;
        const std::size_t end = std::min<std::uint64_t>(len, (b + 1) * size - start);
        if (grid)
          add_norm_grid(a + i, unit, levels.values[b], b, buf + i, end - i, scaled,
                        scaled_bucket);
        else
          add_levels(a + i, levels.values.data() + levels.offsets[b],
                     levels.offsets[b + 1] - levels.offsets[b], buf + i, end - i);
        i = end;
      }
    }
    poll_progress();  // a pipelined exchange's transfers move meanwhile (caller's thread only)
  });
}

/// acc[i] += c·(u - 1/2), u the sender's rounding draw of coordinate first + i (its
/// PhiloxStream::uniform_float): the draws made on the SIMD target, a buffer of them at a time.
template <class T>
void add_dither(const PayloadHeader& h, T* acc) {
  const PhiloxStream stream(h.seed, h.round, h.rank, static_cast<Purpose>(h.dither_purpose));
  const detail::PhiloxWords words = detail::philox_words(stream);
  const float c = h.dither;
  constexpr std::size_t kBlocks = 1024;
  float u[4 * kBlocks];
  const std::uint64_t end = h.first + h.count;
  for (std::uint64_t g = h.first; g < end;) {
    const std::uint64_t block = g >> 2;
    const std::size_t blocks =
        static_cast<std::size_t>(std::min<std::uint64_t>(kBlocks, ((end + 3) >> 2) - block));
    detail::philox_uniforms(words, block, blocks, u);
    const std::uint64_t stop = std::min<std::uint64_t>(end, 4 * (block + blocks));
    for (; g < stop; ++g) acc[g - h.first] += static_cast<T>(c * (u[g - 4 * block] - 0.5f));
  }
}

/// Kind 3: the code of every coordinate sent exactly must be 0 (its canonical form).
void check_exact_codes(const CodeReader& reader, const PayloadHeader& h, const LevelTable& t) {
  std::uint16_t buf[kChunkBuffer];
  for (const std::uint32_t i : t.exact) {
    const std::size_t start = i - i % reader.group();
    reader.read(start, std::min<std::uint64_t>(reader.group(), h.count - start), buf);
    DME_CHECK(buf[i - start] == 0, "code of coordinate " << h.first + i << " is "
                                                         << buf[i - start]
                                                         << ", but it is sent exactly (expected 0)");
  }
}

/// Kind 3: acc[i] += σ·R[h_i][code_i], h_i the shared draw of coordinate first + i, or the
/// coordinate's exact value. The table lookups run without a branch (an exact coordinate adds
/// the table's trailing 0 first), then the exact values are added.
template <class T>
void accumulate_shared_table(const CodeReader& reader, const PayloadHeader& h,
                             const LevelTable& t, T* acc) {
  const QuicFlQuantizer& q = QuicFlQuantizer::get(std::countr_zero(h.s));
  // Locals, not q's members, so that the compiler vectorises the index loop below.
  const unsigned bits = q.bits(), h_shift = 8u - std::countr_zero(q.h_values());
  std::vector<float> scaled(q.receiver().size() + 1, 0.0f);
  const std::uint32_t zero = static_cast<std::uint32_t>(q.receiver().size());
  for (std::size_t k = 0; k < q.receiver().size(); ++k) scaled[k] = h.dither * q.receiver()[k];
  const detail::PhiloxWords words = detail::philox_words(
      PhiloxStream(h.seed, h.round, h.rank, static_cast<Purpose>(h.dither_purpose)));
  const std::size_t chunk = chunk_codes(reader);
  const std::uint64_t span = chunk * kTaskChunks;
  parallel_for(ceil_div(h.count, span), [&](std::size_t k, unsigned) {
    std::uint16_t buf[kChunkBuffer];
    std::uint32_t index[kChunkBuffer];
    std::uint8_t shared[kChunkBuffer];
    const std::uint64_t stop = std::min<std::uint64_t>(h.count, (k + 1) * span);
    const auto first_exact = std::lower_bound(t.exact.begin(), t.exact.end(), k * span);
    std::size_t e = static_cast<std::size_t>(first_exact - t.exact.begin());
    for (std::uint64_t start = k * span; start < stop; start += chunk) {
      const std::size_t len = std::min<std::uint64_t>(chunk, h.count - start);
      reader.read(start, len, buf);
      detail::philox_bytes(words, h.first + start, len, shared);  // coordinate g: byte g
      for (std::size_t i = 0; i < len; ++i)
        index[i] = (std::uint32_t(shared[i] >> h_shift) << bits) + buf[i];
      const std::size_t e0 = e;
      for (; e < t.exact.size() && t.exact[e] < start + len; ++e) index[t.exact[e] - start] = zero;
      T* a = acc + start;
      for (std::size_t i = 0; i < len; ++i) a[i] += static_cast<T>(scaled[index[i]]);
      for (std::size_t x = e0; x < e; ++x) a[t.exact[x] - start] += static_cast<T>(t.values[x]);
    }
  });
}

/// Kind 4: unpacks codes [first, first + n) of the stream (first a multiple of the period) into
/// out, run by run. Non-zero padding bits after the stream's last code -> dme::Error.
void read_two_widths(std::span<const std::byte> stream, const TwoWidthStream& t,
                     std::uint64_t first, std::uint64_t n, std::uint16_t* out) {
  t.for_each_run(first, n, [&](std::uint64_t start, std::uint64_t len, unsigned width,
                               std::uint64_t offset) {
    DME_CHECK(unpack_fixed(stream.data() + offset, stream.size() - offset, width, len,
                           out + (start - first)),
              "payload codes: the padding bits after the last code are not zero");
  });
}

/// The code stream of a kind-4 payload, its last run's padding and the section's checked.
std::span<const std::byte> two_width_codes(std::span<const std::byte> buf, const WireHeader& w) {
  const Sections& sec = w.sections;
  const std::span<const std::byte> stream = buf.subspan(sec.codes, sec.codes_bytes);
  if (w.header.count > 0) {
    const std::uint64_t last = (w.header.count - 1) / kTwoWidthPeriod * kTwoWidthPeriod;
    std::uint16_t codes[kTwoWidthPeriod];
    read_two_widths(stream, TwoWidthStream::of(w.header), last, w.header.count - last, codes);
  }
  check_zero_padding(buf, sec.codes + sec.codes_bytes, sec.checksum, "codes");
  return stream;
}

/// Kind 4: acc[i] += S·C[code i], C the Lloyd-Max table of its width, a period at a time
/// (tasks of kTaskChunks periods on the threads). Every code is below its table's size: its
/// width proves it.
template <class T>
void accumulate_two_widths(std::span<const std::byte> stream, const PayloadHeader& h, T* acc) {
  const TwoWidthStream t = TwoWidthStream::of(h);
  std::vector<float> levels(3 * std::size_t(h.s));  // the wide table (2s levels), the narrow (s)
  if (t.wide > 0) {
    const std::span<const float> wide = lloyd_max_table(t.bits + 1);
    for (std::size_t j = 0; j < wide.size(); ++j) levels[j] = h.dither * wide[j];
  }
  const std::span<const float> narrow = lloyd_max_table(t.bits);
  for (std::size_t j = 0; j < narrow.size(); ++j) levels[2 * h.s + j] = h.dither * narrow[j];
  const std::uint64_t span = kTwoWidthPeriod * kTaskChunks;
  parallel_for(ceil_div(h.count, span), [&](std::size_t k, unsigned) {
    std::uint16_t codes[kTwoWidthPeriod];
    const std::uint64_t stop = std::min<std::uint64_t>(h.count, (k + 1) * span);
    t.for_each_run(k * span, stop - k * span, [&](std::uint64_t start, std::uint64_t len,
                                                  unsigned width, std::uint64_t offset) {
      unpack_fixed(stream.data() + offset, stream.size() - offset, width, len, codes);
      const bool wide = width > t.bits;
      add_levels(acc + start, levels.data() + (wide ? 0 : 2 * h.s), (wide ? 2 : 1) * h.s, codes,
                 len);
    });
    poll_progress();
  });
}

template <class T>
PayloadHeader decode_accumulate_impl(std::span<const std::byte> buf,
                                     const DecodeExpectations& expect, std::span<T> acc) {
  const WireHeader w = read_header(buf, expect);
  DME_CHECK(acc.size() == w.header.count, "decode_accumulate: accumulator of size "
                                              << acc.size() << " for a payload of count "
                                              << w.header.count);
  DME_CHECK(w.header.kind != PayloadKind::kCodes,
            "decode_accumulate: payload of kind 2 (codes only, from rank "
                << w.header.rank << ") carries no levels to add; decode() gives its codes");
  const LevelTable levels = read_levels(buf, w);
  if (w.header.kind == PayloadKind::kLloydMax) {
    accumulate_two_widths(two_width_codes(buf, w), w.header, acc.data());
    return w.header;
  }
  const CodeReader reader = code_reader(buf, w);
  if (w.header.kind == PayloadKind::kSharedTable) {  // codes < 2^b = s: the stream proves it
    check_exact_codes(reader, w.header, levels);
    accumulate_shared_table(reader, w.header, levels, acc.data());
    return w.header;
  }
  check_codes_chunked(reader, w.header, levels, guaranteed_code_bound(w.layout));
  accumulate_chunks(reader, w.header, levels, acc.data());
  if (w.header.kind == PayloadKind::kDitheredLevels) add_dither(w.header, acc.data());
  return w.header;
}

}  // namespace

LevelTable codes_only_levels(std::uint32_t s) {
  return {{}, {0, s}, {}};
}

LevelTable norm_grid_table(std::vector<float> norms, std::uint32_t s) {
  return {std::move(norms), {0, s}, {}};
}

float norm_grid_level(float norm, std::uint32_t code, std::uint32_t s) {
  DME_CHECK(s >= 2 && s <= kMaxRadix && code < s,
            "norm_grid_level: code " << code << " of a grid of s = " << s << " levels");
  return norm * norm_grid_point(code, s);
}

std::uint64_t bucket_length(const PayloadHeader& h) {
  return h.bucket_size ? h.bucket_size : std::max<std::uint64_t>(h.count, 1);
}

std::size_t num_buckets(const PayloadHeader& h) {
  return h.bucket_size == 0 ? 1 : ceil_div(h.count, h.bucket_size);
}

std::size_t encoded_size(const PayloadHeader& h, const LevelTable& levels) {
  return plan(h, levels).sections.total;
}

PayloadWriter::PayloadWriter(const PayloadHeader& h, const LevelTable& levels,
                             std::vector<std::byte>& out)
    : header_(h), levels_(levels), out_(&out) {
  const WireHeader w = plan(h, levels);
  layout_ = w.layout;
  alignment_ = h.kind == PayloadKind::kLloydMax         ? kTwoWidthPeriod
               : layout_.packing == Packing::kFixedWidth ? 8
                                                          : layout_.digits_per_word;
  const Sections& sec = w.sections;
  codes_offset_ = sec.codes;
  codes_bytes_ = sec.codes_bytes;
  checksum_offset_ = sec.checksum;
  out.resize(sec.total);
  std::byte* p = out.data();
  write_header(w, p);
  const std::size_t counts = h.kind == PayloadKind::kNormGrid ? 0 : w.buckets;  // kind 5: none
  for (std::size_t b = 0; b < counts; ++b)
    store_le<std::uint32_t>(p + sec.level_counts + 4 * b,
                            levels.offsets[b + 1] - levels.offsets[b]);
  std::fill(p + sec.level_counts + 4 * counts, p + sec.levels, std::byte{0});
  const std::size_t values = levels.values.size();
  for (std::size_t i = 0; i < values; ++i)
    store_le<std::uint32_t>(p + sec.levels + 4 * i, std::bit_cast<std::uint32_t>(levels.values[i]));
  for (std::size_t i = 0; i < levels.exact.size(); ++i)
    store_le<std::uint32_t>(p + sec.levels + 4 * (values + i), levels.exact[i]);
  std::fill(p + sec.levels + 4 * w.levels, p + sec.codes, std::byte{0});
  hash_.reset(XXH3_createState());
  DME_CHECK(hash_ != nullptr, "PayloadWriter: could not allocate the checksum state");
  DME_CHECK(XXH3_64bits_reset(hash_.get()) == XXH_OK, "PayloadWriter: checksum reset failed");
  hash_through(codes_offset_);
}

void PayloadWriter::HashDeleter::operator()(XXH3_state_s* state) const noexcept {
  XXH3_freeState(state);
}

void PayloadWriter::hash_through(std::uint64_t end) {
  DME_ASSERT(end >= hashed_ && end <= checksum_offset_);
  if (end == hashed_) return;
  XXH3_64bits_update(hash_.get(), out_->data() + hashed_, end - hashed_);
  hashed_ = end;
}

void PayloadWriter::pack(std::uint64_t first, std::span<const std::uint16_t> codes) {
  DME_CHECK(!finished_ && !raw_, "PayloadWriter::pack after finish() or code_bytes()");
  DME_CHECK(first == next_, "PayloadWriter::pack: pieces must come in order: expected first = "
                                << next_ << ", got " << first);
  pack_piece(first, codes);
  next_ += codes.size();
  // Whole groups (bytes of 8 fixed-width codes, mixed-radix words, Lloyd-Max periods) are final
  // once packed.
  const std::uint64_t group_bytes = header_.kind == PayloadKind::kLloydMax
                                        ? TwoWidthStream::of(header_).period_bytes()
                                    : layout_.packing == Packing::kFixedWidth ? layout_.bits
                                                                              : 8;
  hash_through(codes_offset_ + next_ / alignment_ * group_bytes);
}

void PayloadWriter::pack_unordered(std::uint64_t first,
                                   std::span<const std::uint16_t> codes) const {
  DME_CHECK(!finished_ && !raw_ && next_ == 0,
            "PayloadWriter::pack_unordered after pack(), code_bytes() or finish()");
  DME_CHECK(first % alignment_ == 0, "PayloadWriter::pack_unordered: a piece must start at a "
                                         "multiple of " << alignment_ << " codes, got " << first);
  pack_piece(first, codes);
}

void PayloadWriter::finish_unordered() {
  DME_CHECK(!finished_ && !raw_ && next_ == 0,
            "PayloadWriter::finish_unordered after pack(), code_bytes() or finish()");
  next_ = header_.count;
  finish();
}

void PayloadWriter::pack_piece(std::uint64_t first, std::span<const std::uint16_t> codes) const {
  DME_CHECK(first <= header_.count && codes.size() <= header_.count - first,
            "PayloadWriter::pack: codes ["
                                                       << first << ", " << first + codes.size()
                                                       << ") run past the count " << header_.count);
  DME_CHECK(first + codes.size() == header_.count || codes.size() % alignment_ == 0,
            "PayloadWriter::pack: a piece other than the last must be a multiple of "
                << alignment_ << " codes long, got " << codes.size());
  std::byte* p = out_->data() + codes_offset_;
  if (header_.kind == PayloadKind::kLloydMax) {  // each run against its width's table
    TwoWidthStream::of(header_).for_each_run(first, codes.size(), [&](std::uint64_t start,
                                                                      std::uint64_t n,
                                                                      unsigned width,
                                                                      std::uint64_t offset) {
      const std::uint16_t* c = codes.data() + (start - first);
      const std::size_t bad = find_code_at_least(c, n, std::uint32_t(1) << width);
      DME_CHECK(bad == SIZE_MAX, "code of coordinate " << header_.first + start + bad << " is "
                                                       << c[bad] << ", but it is one of the "
                                                       << width << "-bit codes");
      pack_fixed(c, n, width, p + offset);
    });
    return;
  }
  // Codes against their buckets' level counts (the same rule as encode and decode).
  const std::uint64_t size = bucket_length(header_);
  for (std::uint64_t i = 0; i < codes.size();) {
    const std::uint64_t b = (first + i) / size;
    const std::uint64_t end = std::min<std::uint64_t>(codes.size(), (b + 1) * size - first);
    const std::uint32_t n = bucket_level_count(levels_, header_, b);
    const std::size_t bad = find_code_at_least(codes.data() + i, end - i, n);
    DME_CHECK(bad == SIZE_MAX, "code of coordinate " << header_.first + first + i + bad << " is "
                                                     << codes[i + bad] << ", but its bucket " << b
                                                     << " has " << n << " levels");
    i = end;
  }
  if (layout_.packing == Packing::kFixedWidth) {
    pack_fixed(codes.data(), codes.size(), layout_.bits, p + first / 8 * layout_.bits);
  } else {
    pack_radix(codes.data(), codes.size(), make_radix_table(header_.s, layout_.digits_per_word),
               p + first / alignment_ * 8);
  }
}

std::span<std::byte> PayloadWriter::code_bytes() {
  DME_CHECK(!finished_ && next_ == 0, "PayloadWriter::code_bytes after pack() or finish()");
  raw_ = true;
  return {out_->data() + codes_offset_, codes_bytes_};
}

void PayloadWriter::finish() {
  DME_CHECK(!finished_, "PayloadWriter::finish called twice");
  DME_CHECK(raw_ || next_ == header_.count,
            "PayloadWriter::finish: " << next_ << " of " << header_.count << " codes packed");
  std::byte* p = out_->data();
  std::fill(p + codes_offset_ + codes_bytes_, p + checksum_offset_, std::byte{0});
  hash_through(checksum_offset_);
  store_le<std::uint64_t>(p + checksum_offset_, XXH3_64bits_digest(hash_.get()));
  finished_ = true;
}

void encode(const PayloadHeader& h, const LevelTable& levels, std::span<const std::uint16_t> codes,
            std::vector<std::byte>& out) {
  DME_CHECK(codes.size() == h.count,
            "encode: " << codes.size() << " codes for a header of count " << h.count);
  for (const std::uint32_t i : levels.exact)
    DME_CHECK(i >= codes.size() || codes[i] == 0,
              "encode: code of coordinate " << h.first + i << " is " << codes[i]
                                            << ", but it is sent exactly (expected 0)");
  PayloadWriter writer(h, levels, out);
  writer.pack(0, codes);
  writer.finish();
}

PayloadHeader decode_header(std::span<const std::byte> buf, const DecodeExpectations& expect) {
  return read_header(buf, expect).header;
}

Payload decode(std::span<const std::byte> buf, const DecodeExpectations& expect) {
  Payload p;
  decode(buf, expect, p);
  return p;
}

void decode(std::span<const std::byte> buf, const DecodeExpectations& expect, Payload& p) {
  const WireHeader w = read_header(buf, expect);
  p.header = w.header;
  p.levels = read_levels(buf, w);
  p.codes.clear();
  if (w.header.kind == PayloadKind::kLloydMax) {
    const std::span<const std::byte> stream = two_width_codes(buf, w);
    p.codes.resize(w.header.count);  // proven to fit: the packed codes are in the buffer
    read_two_widths(stream, TwoWidthStream::of(w.header), 0, p.codes.size(), p.codes.data());
    return;
  }
  const CodeReader reader = code_reader(buf, w);
  p.codes.resize(w.header.count);  // proven to fit: the packed codes are in the buffer
  reader.read(0, p.codes.size(), p.codes.data());
  check_codes_in_buckets(p.codes.data(), p.header, p.levels, guaranteed_code_bound(w.layout));
  for (const std::uint32_t i : p.levels.exact)
    DME_CHECK(p.codes[i] == 0, "code of coordinate " << p.header.first + i << " is " << p.codes[i]
                                                     << ", but it is sent exactly (expected 0)");
}

PayloadHeader decode_accumulate(std::span<const std::byte> buf, const DecodeExpectations& expect,
                                std::span<float> acc) {
  return decode_accumulate_impl(buf, expect, acc);
}

PayloadHeader decode_accumulate(std::span<const std::byte> buf, const DecodeExpectations& expect,
                                std::span<double> acc) {
  return decode_accumulate_impl(buf, expect, acc);
}

}  // namespace dme
