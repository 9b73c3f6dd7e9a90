#include "dme/quantization/rounding.h"

#include <algorithm>

#include "dme/core/error.h"
#include "dme/quantization/detail/rounding_kernels.h"

namespace dme {

void stochastic_round(std::span<const float> x, std::span<const float> levels,
                      const PhiloxStream& stream, std::uint64_t first_index,
                      std::span<std::uint16_t> codes) {
  check_levels(levels);
  DME_CHECK(codes.size() == x.size(),
            "stochastic_round: codes has size " << codes.size() << " but x has size " << x.size());
  const std::size_t bad = detail::stochastic_round_kernel(x.data(), x.size(), levels, stream,
                                                          first_index, codes.data());
  DME_CHECK(bad == x.size(), "stochastic_round: x["
                                 << bad << "] = " << x[bad] << " is outside the level range ["
                                 << levels.front() << ", " << levels.back() << "]");
}

void nearest_round(std::span<const float> x, std::span<const float> levels,
                   std::span<std::uint16_t> codes) {
  check_levels(levels);
  DME_CHECK(codes.size() == x.size(),
            "nearest_round: codes has size " << codes.size() << " but x has size " << x.size());
  const std::size_t bad = detail::nearest_round_kernel(x.data(), x.size(), levels, codes.data());
  DME_CHECK(bad == x.size(), "nearest_round: x[" << bad << "] is NaN");
}

void dequantize(std::span<const std::uint16_t> codes, std::span<const float> levels,
                std::span<float> out) {
  DME_CHECK(!levels.empty(), "dequantize: level set is empty");
  DME_CHECK(out.size() == codes.size(),
            "dequantize: out has size " << out.size() << " but codes has size " << codes.size());
  std::uint16_t max_code = 0;
  for (std::uint16_t c : codes) max_code = std::max(max_code, c);
  if (max_code >= levels.size()) {
    const auto it = std::find_if(codes.begin(), codes.end(),
                                 [&](std::uint16_t c) { return c >= levels.size(); });
    DME_THROW("dequantize: codes[" << (it - codes.begin()) << "] = " << *it << " but there are "
                                   << levels.size() << " levels");
  }
  const float* lv = levels.data();
  for (std::size_t i = 0; i < codes.size(); ++i) out[i] = lv[codes[i]];
}

}  // namespace dme
