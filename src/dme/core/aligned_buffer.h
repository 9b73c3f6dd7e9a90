// 64-byte aligned storage for vectors the kernels stream through.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace dme {

inline constexpr std::size_t kAlignment = 64;  // a cache line, and an AVX-512 register
/// Buffers of at least this many bytes get advice on their pages (Pages, below).
inline constexpr std::size_t kHugePageBytes = std::size_t(2) << 20;
inline constexpr std::size_t kSmallPageBytes = 4096;

/// The pages Linux is asked to back a buffer of kHugePageBytes or more with.
/// kHuge (MADV_HUGEPAGE, from a 2 MiB boundary): far fewer page faults when the buffer is first
/// touched (64 MiB: 3.3 against 16 ms on an Intel Xeon family 6 model 207), for buffers made
/// per call and streamed through. kSmall (MADV_NOHUGEPAGE, also where transparent huge pages are
/// on for everything, the default of some distributions): for long-lived vectors that fwht
/// transforms whole. A vector of 2^24 floats is transformed as 256 rows of 256 KiB, and the
/// column sweeps combine the same columns of all rows; in huge pages those lie at the same
/// offsets mod 128 KiB, so they share a few sets of the L2 cache (16 ways) and a column panel
/// cannot stay there between passes. Measured on that Xeon, huge pages against small (THP
/// switched between runs, alternated): FWHT at 2^24 3.6–3.7 against 2.6–3.7 times a memcpy
/// (small pages are placed at random, so their layout is good in most runs, bad in some); 2 RHTs
/// + quiver-apx + rounding at 2^24 1.23–1.25 against 1.28–1.42 GB/s on AVX-512, 0.82–0.86
/// against 0.96–1.06 on AVX2. `dme-bench rotation` times both kinds (fwht_huge_pages_ms).
enum class Pages { kHuge, kSmall };

namespace detail {
inline std::align_val_t buffer_alignment(std::size_t bytes, Pages pages) {
  if (bytes < kHugePageBytes) return std::align_val_t(kAlignment);
  return std::align_val_t(pages == Pages::kHuge ? kHugePageBytes : kSmallPageBytes);
}
}  // namespace detail

template <class T, Pages P = Pages::kHuge>
struct AlignedAllocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = AlignedAllocator<U, P>;
  };
  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U, P>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    void* p = ::operator new(bytes, detail::buffer_alignment(bytes, P));
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    // Advice only: where THP is off or the call fails, the buffer keeps the kernel's choice
    // (slower or faster, the same results).
    if (bytes >= kHugePageBytes) {
      const std::size_t unit = P == Pages::kHuge ? kHugePageBytes : kSmallPageBytes;
      ::madvise(p, bytes - bytes % unit, P == Pages::kHuge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    }
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ::operator delete(p, detail::buffer_alignment(n * sizeof(T), P));
  }

  template <class U>
  bool operator==(const AlignedAllocator<U, P>&) const noexcept {
    return true;
  }
};

/// A std::vector whose data() is 64-byte aligned.
template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

/// The same in small pages: for long-lived vectors transformed whole by fwht (Pages::kSmall).
template <class T>
using TransformVector = std::vector<T, AlignedAllocator<T, Pages::kSmall>>;

/// An aligned array of n trivially copyable T left uninitialised: for large scratch buffers that
/// are written in full before they are read (a zeroing pass over them costs a full write).
template <class T>
class UninitializedBuffer {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  explicit UninitializedBuffer(std::size_t n)
      : n_(n), p_(n > 0 ? AlignedAllocator<T>().allocate(n) : nullptr) {}
  ~UninitializedBuffer() {
    if (p_) AlignedAllocator<T>().deallocate(p_, n_);
  }
  UninitializedBuffer(const UninitializedBuffer&) = delete;
  UninitializedBuffer& operator=(const UninitializedBuffer&) = delete;

  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }
  T& operator[](std::size_t i) { return p_[i]; }
  const T& operator[](std::size_t i) const { return p_[i]; }

 private:
  std::size_t n_;
  T* p_;
};

}  // namespace dme
