// x86-64 AVX2 + FMA3: 8-float vectors, a 6 × 16 GEMM tile (12 accumulators of 16 registers).
#include "Instantiations.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define CK_VW 8
#define CK_NV 2
#define CK_MR 6
#define CK_NAME(x) ck_avx2_##x
#define CK_FMA(a, b, c) __builtin_elementwise_fma(a, b, c)
#define CK_TABLE_NAME "avx2"
#define CK_TABLE_ISA CK_ISA_AVX2
/// The lanes of p where the int vector m is negative (zero elsewhere, their memory untouched).
#define CK_MASKED_LOAD(p, m) ((ck_vf)_mm256_maskload_ps((p), (__m256i)(m)))
/// v to the lanes of p where the int vector m is negative (the others' memory untouched).
#define CK_MASKED_STORE(p, m, v) _mm256_maskstore_ps((p), (__m256i)(m), (__m256)(v))
#include "KernelTemplate.h"
#pragma clang attribute pop

#endif
