// x86-64 AVX-512F: 16-float vectors, an 8 × 32 GEMM tile (16 accumulators of 32 registers).
// The same source as the AVX2 level, lowered for 512-bit registers.
#include "Instantiations.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,fma"))), apply_to = function)
#define CK_VW 16
#define CK_NV 2
#define CK_MR 8
#define CK_NAME(x) ck_avx512_##x
#define CK_FMA(a, b, c) __builtin_elementwise_fma(a, b, c)
#define CK_TABLE_NAME "avx512"
#define CK_TABLE_ISA CK_ISA_AVX512
/// The lanes of p where the int vector m is nonzero (zero elsewhere, their memory untouched).
#define CK_MASKED_LOAD(p, m) ((ck_vf)_mm512_maskz_loadu_ps(_mm512_test_epi32_mask((__m512i)(m), (__m512i)(m)), (p)))
/// v to the lanes of p where the int vector m is nonzero (the others' memory untouched).
#define CK_MASKED_STORE(p, m, v) _mm512_mask_storeu_ps((p), _mm512_test_epi32_mask((__m512i)(m), (__m512i)(m)), (__m512)(v))
#define CK_WINDOW_PAIRS 1
#include "KernelTemplate.h"
#pragma clang attribute pop

#endif
