// AArch64 Advanced SIMD: 4-float vectors, a 6 × 16 GEMM tile (24 accumulators of 32 registers).
#include "Instantiations.h"
#if defined(__aarch64__)

#define CK_VW 4
#define CK_NV 4
#define CK_MR 6
#define CK_NAME(x) ck_neon_##x
#define CK_FMA(a, b, c) __builtin_elementwise_fma(a, b, c)
#define CK_TABLE_NAME "neon"
#define CK_TABLE_ISA CK_ISA_NEON
#include "KernelTemplate.h"

#endif
