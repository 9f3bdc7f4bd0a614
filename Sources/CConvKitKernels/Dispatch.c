// CPU detection (once), the kernel tables, and the floating-point mode of worker threads.
#include "Instantiations.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static int ck_detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_ISA_AVX2;
    return CK_ISA_PORTABLE;
#elif defined(__aarch64__)
    return CK_ISA_NEON;
#else
    return CK_ISA_PORTABLE;
#endif
}

int ck_best_isa(void) {
    static int best = -1;  // benign race: every thread computes the same value
    if (best < 0) best = ck_detect();
    return best;
}

const ck_kernels *ck_kernels_for(int isa) {
    if (isa < 0 || isa > ck_best_isa()) return 0;
    switch (isa) {
    case CK_ISA_PORTABLE: return &ck_portable_table;
#if defined(__x86_64__)
    case CK_ISA_AVX2: return &ck_avx2_table;
    case CK_ISA_AVX512: return &ck_avx512_table;
#endif
#if defined(__aarch64__)
    case CK_ISA_NEON: return &ck_neon_table;
#endif
    default: return 0;
    }
}

ck_fp_state ck_enter_flush_denormals(void) {
#if defined(__x86_64__)
    unsigned int old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
    return old;
#elif defined(__aarch64__)
    uint64_t old;
    __asm__ volatile("mrs %0, fpcr" : "=r"(old));
    __asm__ volatile("msr fpcr, %0" : : "r"(old | (1ull << 24)));  // FZ
    return old;
#else
    return 0;
#endif
}

void ck_restore_fp_state(ck_fp_state state) {
#if defined(__x86_64__)
    _mm_setcsr((unsigned int)state);
#elif defined(__aarch64__)
    __asm__ volatile("msr fpcr, %0" : : "r"(state));
#else
    (void)state;
#endif
}

void ck_cpu_relax(void) {
#if defined(__x86_64__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

long ck_atomic_load(const long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
void ck_atomic_store(long *p, long value) { __atomic_store_n(p, value, __ATOMIC_SEQ_CST); }
long ck_atomic_add(long *p, long delta) { return __atomic_add_fetch(p, delta, __ATOMIC_SEQ_CST); }
int ck_atomic_compare_exchange(long *p, long expected, long desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
