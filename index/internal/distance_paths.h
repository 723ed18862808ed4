// The per-ISA distance kernels behind index/distance.h. Only distance.cc may
// include this header; everything else goes through DistanceKernels.
//
// Each namespace (scalar, avx2, avx512) is defined in its own translation unit
// compiled with that ISA's flags (index/kernels.cmake). Those translation
// units include nothing but <immintrin.h>, <cstddef>, <cstdint> and this
// header, and keep every helper in an anonymous namespace: an inline function
// from a shared header compiled there would carry AVX-512 instructions, and the
// linker could pick that copy for callers on a CPU without them.
//
// Shapes and contracts are those of index/distance.h (x[i * d + j], d >= 1,
// pointers need no alignment).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vesta::index::internal {

// Portable C++ for the baseline ISA (the compiler may use SSE2).
namespace scalar {
float L2Sqr(const float* x, const float* y, size_t d);
float InnerProduct(const float* x, const float* y, size_t d);
void L2SqrNy(const float* x, const float* y, size_t d, size_t ny, float* distances);
void InnerProductNy(const float* x, const float* y, size_t d, size_t ny, float* distances);
void L2SqrByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n, float* distances);
void InnerProductByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n,
                       float* distances);
}  // namespace scalar

// AVX2 + FMA (8 floats per register). REQUIRES: the CPU supports avx2 and fma.
namespace avx2 {
float L2Sqr(const float* x, const float* y, size_t d);
float InnerProduct(const float* x, const float* y, size_t d);
void L2SqrNy(const float* x, const float* y, size_t d, size_t ny, float* distances);
void InnerProductNy(const float* x, const float* y, size_t d, size_t ny, float* distances);
void L2SqrByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n, float* distances);
void InnerProductByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n,
                       float* distances);
}  // namespace avx2

// AVX-512F (16 floats per register, masked tails). REQUIRES: the CPU supports avx512f.
namespace avx512 {
float L2Sqr(const float* x, const float* y, size_t d);
float InnerProduct(const float* x, const float* y, size_t d);
void L2SqrNy(const float* x, const float* y, size_t d, size_t ny, float* distances);
void InnerProductNy(const float* x, const float* y, size_t d, size_t ny, float* distances);
void L2SqrByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n, float* distances);
void InnerProductByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n,
                       float* distances);
}  // namespace avx512

}  // namespace vesta::index::internal
