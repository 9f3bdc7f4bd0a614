// The kernel tables each Kernels*.c file defines (private to the C target).
#ifndef CCONVKITKERNELS_INSTANTIATIONS_H
#define CCONVKITKERNELS_INSTANTIATIONS_H
#include "include/CConvKitKernels.h"

extern const ck_kernels ck_portable_table;
#if defined(__x86_64__)
extern const ck_kernels ck_avx2_table;
extern const ck_kernels ck_avx512_table;
#endif
#if defined(__aarch64__)
extern const ck_kernels ck_neon_table;
#endif

#endif
