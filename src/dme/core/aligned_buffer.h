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
/// Buffers of at least this many bytes start on a 2 MiB boundary and ask Linux for transparent
/// huge pages: far fewer page faults when they are first touched, and far fewer TLB misses when
/// the Hadamard column sweeps stride through them a row (256 KiB) at a time.
inline constexpr std::size_t kHugePageBytes = std::size_t(2) << 20;

namespace detail {
inline std::align_val_t buffer_alignment(std::size_t bytes) {
  return std::align_val_t(bytes >= kHugePageBytes ? kHugePageBytes : kAlignment);
}
}  // namespace detail

template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    void* p = ::operator new(bytes, detail::buffer_alignment(bytes));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // Advice only: where THP is off or the call fails, the buffer simply keeps small pages.
    if (bytes >= kHugePageBytes) ::madvise(p, bytes - bytes % kHugePageBytes, MADV_HUGEPAGE);
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ::operator delete(p, detail::buffer_alignment(n * sizeof(T)));
  }

  template <class U>
  bool operator==(const AlignedAllocator<U>&) const noexcept {
    return true;
  }
};

/// A std::vector whose data() is 64-byte aligned.
template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

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
