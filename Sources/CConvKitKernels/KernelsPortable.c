// The portable level: clang vectors lowered to the baseline target (SSE2 on x86-64, NEON on
// AArch64, scalar elsewhere). Unfused multiply-add: a fused one would become a libm call where
// the baseline has no FMA instruction.
#include "Instantiations.h"

#define CK_VW 4
#define CK_NV 2
#define CK_MR 6
#define CK_NAME(x) ck_portable_##x
#define CK_FMA(a, b, c) ((a) * (b) + (c))
#define CK_TABLE_NAME "portable"
#define CK_TABLE_ISA CK_ISA_PORTABLE
#include "KernelTemplate.h"
