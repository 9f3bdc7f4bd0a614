// The leaf kernels, written once over clang's ext_vector_type and instantiated per instruction
// set by Kernels*.c. Before including, an instantiation defines:
//   CK_VW      floats per vector (4, 8 or 16)
//   CK_NV      vectors per GEMM row (NR = CK_VW · CK_NV)
//   CK_MR      GEMM rows per tile (≤ 8)
//   CK_NAME(x) the exported name of kernel x (e.g. ck_avx2_##x)
//   CK_FMA(a, b, c)  a·b + c on vectors (fused where the target has FMA)
// and wraps the include in `#pragma clang attribute push(__attribute__((target(...))))` if the
// level needs more than the baseline target. Kernels only compute: no allocation, no threads.

#include <stddef.h>
#include <stdint.h>

#define CK_NR (CK_VW * CK_NV)
#define CK_INLINE static inline __attribute__((always_inline))

typedef float ck_vf __attribute__((ext_vector_type(CK_VW)));
typedef float ck_vfu __attribute__((ext_vector_type(CK_VW), aligned(4)));
typedef int32_t ck_vi __attribute__((ext_vector_type(CK_VW)));
typedef int32_t ck_viu __attribute__((ext_vector_type(CK_VW), aligned(4)));
typedef int64_t ck_vl __attribute__((ext_vector_type(CK_VW)));
typedef int64_t ck_vlu __attribute__((ext_vector_type(CK_VW), aligned(8)));

CK_INLINE ck_vf ck_load(const float *p) { return *(const ck_vfu *)p; }
CK_INLINE void ck_store(float *p, ck_vf v) { *(ck_vfu *)p = v; }
CK_INLINE ck_vf ck_splat(float x) { return (ck_vf)x; }

/// v to p as 4-float pieces: a store to a 16-byte-aligned row never straddles a cache line
/// (whole-vector stores that do were measured 10–20 % slower on Zen 3 in memory-bound loops).
CK_INLINE void ck_store_quads(float *p, ck_vf v) {
    typedef float ck_v4u __attribute__((ext_vector_type(4), aligned(4)));
#if CK_VW == 4
    *(ck_v4u *)p = v;
#elif CK_VW == 8
    *(ck_v4u *)p = v.lo;
    *(ck_v4u *)(p + 4) = v.hi;
#else
    *(ck_v4u *)p = v.lo.lo;
    *(ck_v4u *)(p + 4) = v.lo.hi;
    *(ck_v4u *)(p + 8) = v.hi.lo;
    *(ck_v4u *)(p + 12) = v.hi.hi;
#endif
}

/// Lane numbers 0, 1, …, CK_VW − 1.
CK_INLINE ck_vi ck_lanes(void) {
#if CK_VW == 4
    return (ck_vi){0, 1, 2, 3};
#elif CK_VW == 8
    return (ck_vi){0, 1, 2, 3, 4, 5, 6, 7};
#else
    return (ck_vi){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
#endif
}

/// Lanes 0..<n of v to p[l·stride]: contiguous by a masked store where the level has one (the
/// lane-by-lane copy became a memcpy call, spilling the caller's vector registers around it: a
/// fifth of the time of a 14 × 14 depthwise plane).
CK_INLINE void ck_store_partial(float *p, long stride, ck_vf v, long n) {
#ifdef CK_MASKED_STORE
    if (stride == 1) {
        CK_MASKED_STORE(p, ck_lanes() < (int32_t)n, v);
        return;
    }
#endif
    float lanes[CK_VW];
    ck_store(lanes, v);
    for (long l = 0; l < n; l++) p[l * stride] = lanes[l];
}

/// Stride-1 columns in registers, lanes shifted across two vectors: [a(VW−1), b0, …, b(VW−2)]
/// and [a1, …, a(VW−1), b0] (with a splat `a` or `b`: a row's left or right padding shifted in).
#if CK_VW == 4
#define CK_SHIFT_IN(a, b) __builtin_shufflevector(a, b, 3, 4, 5, 6)
#define CK_SHIFT_OUT(a, b) __builtin_shufflevector(a, b, 1, 2, 3, 4)
#elif CK_VW == 8
#define CK_SHIFT_IN(a, b) __builtin_shufflevector(a, b, 7, 8, 9, 10, 11, 12, 13, 14)
#define CK_SHIFT_OUT(a, b) __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8)
#else
#define CK_SHIFT_IN(a, b) __builtin_shufflevector(a, b, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30)
#define CK_SHIFT_OUT(a, b) __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
#endif

/// Stride-2 columns in registers. The 2·VW floats a ++ b split by parity, each in "paired" lane
/// order: the in-lane shuffle (one instruction on every ISA) leaves the natural elements in pairs
/// of lanes out of order; CK_UNPAIR restores natural order, and CK_PAIR_SHIFT(v, prev) is, in
/// paired order, natural [prev(VW−1), v0, v1, …, v(VW−2)] — each lane's predecessor, the last of
/// the paired vector `prev` (or a splat) for the first.
#if CK_VW == 4
#define CK_EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define CK_ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7)
#define CK_UNPAIR(v) (v)
#define CK_PAIR_SHIFT(v, prev) __builtin_shufflevector(v, prev, 7, 0, 1, 2)
#elif CK_VW == 8
#define CK_EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14)
#define CK_ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 9, 11, 5, 7, 13, 15)
#define CK_UNPAIR(v) __builtin_shufflevector(v, v, 0, 1, 4, 5, 2, 3, 6, 7)
#define CK_PAIR_SHIFT(v, prev) __builtin_shufflevector(v, prev, 15, 0, 5, 2, 1, 4, 3, 6)
#else
#define CK_EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 16, 18, 4, 6, 20, 22, 8, 10, 24, 26, 12, 14, 28, 30)
#define CK_ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 17, 19, 5, 7, 21, 23, 9, 11, 25, 27, 13, 15, 29, 31)
#define CK_UNPAIR(v) __builtin_shufflevector(v, v, 0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15)
#define CK_PAIR_SHIFT(v, prev) __builtin_shufflevector(v, prev, 31, 0, 13, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14)
#endif

// MARK: GEMM micro-kernel

/// The register tile: MR rows × CK_NV vectors, C contiguous per row, all NR columns.
CK_INLINE void ck_gemm_tile(const long MR, long kc, const float *const *a, long a_ks, const float *b, long ldb,
                            float *c, long ldc, const float *bias, int accumulate) {
    ck_vf acc[CK_MR][CK_NV];
    const float *ar[CK_MR];
    for (long r = 0; r < MR; r++) ar[r] = a[r];
    for (long r = 0; r < MR; r++) {
        for (long v = 0; v < CK_NV; v++) {
            acc[r][v] = accumulate ? ck_load(c + r * ldc + v * CK_VW) : ck_splat(bias ? bias[r] : 0.0f);
        }
    }
    for (long k = 0; k < kc; k++) {
        const float *brow = b + k * ldb;
        ck_vf bv[CK_NV];
        for (long v = 0; v < CK_NV; v++) bv[v] = ck_load(brow + v * CK_VW);
        for (long r = 0; r < MR; r++) {
            ck_vf x = ck_splat(ar[r][k * a_ks]);
            for (long v = 0; v < CK_NV; v++) acc[r][v] = CK_FMA(x, bv[v], acc[r][v]);
        }
    }
    for (long r = 0; r < MR; r++) {
        for (long v = 0; v < CK_NV; v++) ck_store(c + r * ldc + v * CK_VW, acc[r][v]);
    }
}

#define CK_GEMM_CASE(n) \
    case n: ck_gemm_tile(n, kc, a, a_ks, b, ldb, c, ldc, bias, accumulate); break;

CK_INLINE void ck_gemm_rows(long mr, long kc, const float *const *a, long a_ks, const float *b, long ldb,
                            float *c, long ldc, const float *bias, int accumulate) {
    switch (mr) {
#if CK_MR >= 8
    CK_GEMM_CASE(8)
#endif
#if CK_MR >= 7
    CK_GEMM_CASE(7)
#endif
    CK_GEMM_CASE(6)
    CK_GEMM_CASE(5)
    CK_GEMM_CASE(4)
    CK_GEMM_CASE(3)
    CK_GEMM_CASE(2)
    CK_GEMM_CASE(1)
    default: break;
    }
}

/// An edge or scattered C tile (mr × nr at c[r·c_rs + j·c_cs]) to and from a whole local tile
/// (CK_MR × CK_NR, rows CK_NR apart, zero beyond nr), so that the register tile runs unchanged.
CK_INLINE void ck_tile_load(float *tile, const float *c, long mr, long nr, long c_rs, long c_cs) {
    for (long r = 0; r < mr; r++) {
        for (long j = 0; j < nr; j++) tile[r * CK_NR + j] = c[r * c_rs + j * c_cs];
        for (long j = nr; j < CK_NR; j++) tile[r * CK_NR + j] = 0.0f;
    }
}

CK_INLINE void ck_tile_store(float *c, const float *tile, long mr, long nr, long c_rs, long c_cs) {
    for (long r = 0; r < mr; r++) {
        for (long j = 0; j < nr; j++) c[r * c_rs + j * c_cs] = tile[r * CK_NR + j];
    }
}

void CK_NAME(gemm)(long mr, long nr, long kc, const float *const *a, long a_ks,
                   const float *b, long ldb, float *c, long c_rs, long c_cs,
                   const float *bias, int accumulate) {
    if (mr <= 0 || nr <= 0) return;
    if (nr == CK_NR && c_cs == 1) {
        ck_gemm_rows(mr, kc, a, a_ks, b, ldb, c, c_rs, bias, accumulate);
        return;
    }
    // Edge or scattered tile: the same arithmetic on a local copy.
    float tile[CK_MR * CK_NR];
    if (accumulate) ck_tile_load(tile, c, mr, nr, c_rs, c_cs);
    ck_gemm_rows(mr, kc, a, a_ks, b, ldb, tile, CK_NR, bias, accumulate);
    ck_tile_store(c, tile, mr, nr, c_rs, c_cs);
}

/// How far ahead (in bytes) the micro-kernels prefetch the packed weights they stream (a prefetch
/// never faults, so past the end is harmless). Inside a network the weights of a late layer come
/// from memory (ResNet-18's prepared weights are ~90 MB), and the hardware prefetchers alone left
/// its layers waiting on them. Prefetching 3 KiB ahead, 2 threads, alternating runs of ResNet-18:
/// the 7×7×512 Winograd layers 1.28–1.43 → 0.97–1.16 ms; with the turned GEMM's panels too, the
/// stem 1.41–1.53 → 1.35–1.42 ms and 256→512 stride 2 0.75–0.80 → 0.65–0.68 ms; a layer alone
/// (its weights in L3) unchanged.
#define CK_PREFETCH_BYTES 3072

/// Prefetches the `bytes` (whole cache lines) at p + CK_PREFETCH_BYTES.
CK_INLINE void ck_prefetch_ahead(const float *p, const long bytes) {
    for (long i = 0; i < bytes; i += 64) __builtin_prefetch((const char *)p + CK_PREFETCH_BYTES + i);
}

/// The register tile with A packed k-major (a[k·MR + r]): one pointer walks A, prefetched ahead.
CK_INLINE void ck_gemm_tile_packed(const long MR, long kc, const float *a, const float *b, long ldb, const long *boff,
                                   float *c, long ldc, const float *bias, int accumulate, const float *bounds) {
    ck_vf acc[CK_MR][CK_NV];
    for (long r = 0; r < MR; r++) {
        for (long v = 0; v < CK_NV; v++) {
            acc[r][v] = accumulate ? ck_load(c + r * ldc + v * CK_VW) : ck_splat(bias ? bias[r] : 0.0f);
        }
    }
    if (boff) {
        for (long k = 0; k < kc; k++) {
            const float *brow = b + boff[k];
            ck_prefetch_ahead(a, 1);
            ck_vf bv[CK_NV];
            for (long v = 0; v < CK_NV; v++) bv[v] = ck_load(brow + v * CK_VW);
            for (long r = 0; r < MR; r++) {
                const ck_vf x = ck_splat(a[r]);
                for (long v = 0; v < CK_NV; v++) acc[r][v] = CK_FMA(x, bv[v], acc[r][v]);
            }
            a += MR;
        }
    } else {
        for (long k = 0; k < kc; k++) {
            const float *brow = b + k * ldb;
            ck_prefetch_ahead(a, 1);
            ck_vf bv[CK_NV];
            for (long v = 0; v < CK_NV; v++) bv[v] = ck_load(brow + v * CK_VW);
            for (long r = 0; r < MR; r++) {
                const ck_vf x = ck_splat(a[r]);
                for (long v = 0; v < CK_NV; v++) acc[r][v] = CK_FMA(x, bv[v], acc[r][v]);
            }
            a += MR;
        }
    }
    if (bounds) {
        const ck_vf lo = ck_splat(bounds[0]), hi = ck_splat(bounds[1]);
        for (long r = 0; r < MR; r++) {
            for (long v = 0; v < CK_NV; v++) {
                acc[r][v] = acc[r][v] < lo ? lo : acc[r][v];
                acc[r][v] = acc[r][v] > hi ? hi : acc[r][v];
            }
        }
    }
    for (long r = 0; r < MR; r++) {
        for (long v = 0; v < CK_NV; v++) ck_store(c + r * ldc + v * CK_VW, acc[r][v]);
    }
}

void CK_NAME(gather_rows)(long kc, long nr, const float *src, const long *off, float *dst) {
    if (nr == CK_NR) {
        for (long k = 0; k < kc; k++) {
            const float *s = src + off[k];
            for (long v = 0; v < CK_NV; v++) ck_store(dst + k * CK_NR + v * CK_VW, ck_load(s + v * CK_VW));
        }
        return;
    }
    for (long k = 0; k < kc; k++) {
        for (long j = 0; j < nr; j++) dst[k * nr + j] = src[off[k] + j];
    }
}

// MARK: Turned-around GEMM (positions as rows, A read in place)

/// The register tile of ck_gemm_taps: MR positions × NR columns, A[r][k] = p[r][off[k]]; the
/// weight panel B prefetched ahead (its first row tile streams it, the others find it in L1).
CK_INLINE void ck_gemm_taps_tile(const long MR, long kc, const float *src, const long *row, const long *off,
                                 const float *b, float *c, long ldc) {
    ck_vf acc[CK_MR][CK_NV];
    const float *p[CK_MR];
    for (long r = 0; r < MR; r++) {
        p[r] = src + row[r];
        for (long v = 0; v < CK_NV; v++) acc[r][v] = ck_load(c + r * ldc + v * CK_VW);
    }
    for (long k = 0; k < kc; k++) {
        const long o = off[k];
        ck_vf bv[CK_NV];
        ck_prefetch_ahead(b + k * CK_NR, 4 * CK_NR);
        for (long v = 0; v < CK_NV; v++) bv[v] = ck_load(b + k * CK_NR + v * CK_VW);
        for (long r = 0; r < MR; r++) {
            const ck_vf x = ck_splat(p[r][o]);
            for (long v = 0; v < CK_NV; v++) acc[r][v] = CK_FMA(x, bv[v], acc[r][v]);
        }
    }
    for (long r = 0; r < MR; r++) {
        for (long v = 0; v < CK_NV; v++) ck_store(c + r * ldc + v * CK_VW, acc[r][v]);
    }
}

#define CK_TAPS_CASE(n) \
    case n: ck_gemm_taps_tile(n, kc, src, row, off, b, c, ldc); break;

void CK_NAME(gemm_taps)(long mr, long kc, const float *src, const long *row, const long *off, const float *b,
                        float *c, long ldc) {
    switch (mr) {
#if CK_MR >= 8
    CK_TAPS_CASE(8)
#endif
#if CK_MR >= 7
    CK_TAPS_CASE(7)
#endif
    CK_TAPS_CASE(6)
    CK_TAPS_CASE(5)
    CK_TAPS_CASE(4)
    CK_TAPS_CASE(3)
    CK_TAPS_CASE(2)
    CK_TAPS_CASE(1)
    default: break;
    }
}

/// The fused activation of an epilogue: v < lo ? lo : v, then v > hi ? hi : v (ReLU: [0, ∞],
/// ReLU6: [0, 6]; a NaN stays NaN and −0 stays −0, as in PyTorch's clamp).
CK_INLINE float ck_clamp1(float v, float lo, float hi) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/// out[j·os + i] = c[i·ldc + j] for i < rows, j < cols (then clamped to bounds[0…1] if bounds is
/// not NULL), in 4 × 4 blocks (2 × 4 for two rows left): each output run of positions is written
/// contiguously. Columns go 16 at
/// a time (4 blocks take whole cache lines of 4 rows of c), so each line of c is read once; 4 at a
/// time over all rows re-read each line 4 times (1×1 256→512 stride 2 at 28², 1 thread: 0.53 →
/// 0.50–0.52 ms).
void CK_NAME(transpose_out)(const float *c, long ldc, long rows, long cols, float *out, long os, const float *bounds) {
    typedef float v4 __attribute__((ext_vector_type(4), aligned(4)));
    const float lo = bounds ? bounds[0] : 0.0f, hi = bounds ? bounds[1] : 0.0f;
    const v4 lov = lo, hiv = hi;
    const long whole = cols / 4 * 4;
    for (long j0 = 0; j0 < whole; j0 += 16) {
        const long j1 = j0 + 16 < whole ? j0 + 16 : whole;
        long i = 0;
        for (; i + 4 <= rows; i += 4) {
            for (long j = j0; j < j1; j += 4) {
                const v4 r0 = *(const v4 *)(c + i * ldc + j), r1 = *(const v4 *)(c + (i + 1) * ldc + j);
                const v4 r2 = *(const v4 *)(c + (i + 2) * ldc + j), r3 = *(const v4 *)(c + (i + 3) * ldc + j);
                const v4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
                const v4 t2 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
                v4 o[4] = {__builtin_shufflevector(t0, t1, 0, 1, 4, 5), __builtin_shufflevector(t0, t1, 2, 3, 6, 7),
                           __builtin_shufflevector(t2, t3, 0, 1, 4, 5), __builtin_shufflevector(t2, t3, 2, 3, 6, 7)};
                for (long u = 0; u < 4; u++) {
                    if (bounds) {
                        o[u] = o[u] < lov ? lov : o[u];
                        o[u] = o[u] > hiv ? hiv : o[u];
                    }
                    *(v4 *)(out + (j + u) * os + i) = o[u];
                }
            }
        }
        // Two rows left (AVX2's 6-row weight panels): 2 × 4 blocks, pairs of floats stored.
        for (; i + 2 <= rows; i += 2) {
            typedef float v2 __attribute__((ext_vector_type(2), aligned(4)));
            for (long j = j0; j < j1; j += 4) {
                const v4 r0 = *(const v4 *)(c + i * ldc + j), r1 = *(const v4 *)(c + (i + 1) * ldc + j);
                v4 t[2] = {__builtin_shufflevector(r0, r1, 0, 4, 1, 5), __builtin_shufflevector(r0, r1, 2, 6, 3, 7)};
                for (long u = 0; u < 2; u++) {
                    if (bounds) {
                        t[u] = t[u] < lov ? lov : t[u];
                        t[u] = t[u] > hiv ? hiv : t[u];
                    }
                    *(v2 *)(out + (j + 2 * u) * os + i) = t[u].lo;
                    *(v2 *)(out + (j + 2 * u + 1) * os + i) = t[u].hi;
                }
            }
        }
        for (; i < rows; i++) {
            for (long j = j0; j < j1; j++) {
                const float v = c[i * ldc + j];
                out[j * os + i] = bounds ? ck_clamp1(v, lo, hi) : v;
            }
        }
    }
    for (long j = whole; j < cols; j++) {
        for (long i = 0; i < rows; i++) {
            const float v = c[i * ldc + j];
            out[j * os + i] = bounds ? ck_clamp1(v, lo, hi) : v;
        }
    }
}

// MARK: Padded planes

/// d[0..<n] = s[0..<n]: whole vectors, the last one ending at n (overlapping); shorter runs by lane.
CK_INLINE void ck_copy_run(float *d, const float *s, long n) {
    typedef float v4 __attribute__((ext_vector_type(4), aligned(4)));
    if (n < 4) {
        for (long j = 0; j < n; j++) d[j] = s[j];
        return;
    }
    for (long j = 0; j + 4 <= n; j += 4) *(v4 *)(d + j) = *(const v4 *)(s + j);
    if (n % 4) *(v4 *)(d + n - 4) = *(const v4 *)(s + n - 4);
}

/// d[0..<n] = x, as ck_copy_run.
CK_INLINE void ck_fill_run(float *d, float x, long n) {
    typedef float v4 __attribute__((ext_vector_type(4), aligned(4)));
    const v4 v = x;
    if (n < 4) {
        for (long j = 0; j < n; j++) d[j] = x;
        return;
    }
    for (long j = 0; j + 4 <= n; j += 4) *(v4 *)(d + j) = v;
    if (n % 4) *(v4 *)(d + n - 4) = v;
}

// no_builtin: short rows are copied inline, not by a memcpy/memset call each.
__attribute__((no_builtin("memcpy", "memmove", "memset")))
void CK_NAME(pad_plane)(const float *src, long h, long w, float *dst, long rows, long pitch, long top, long left,
                        float pad, int interior_only) {
    const long first = left > 0 ? (left < pitch ? left : pitch) : 0;
    long end = left + w < pitch ? left + w : pitch;
    if (end < first) end = first;
    for (long i = 0; i < rows; i++) {
        float *line = dst + i * pitch;
        const long iy = i - top;
        if (iy < 0 || iy >= h) {
            if (!interior_only) ck_fill_run(line, pad, pitch);
            continue;
        }
        if (!interior_only) ck_fill_run(line, pad, first);
        ck_copy_run(line + first, src + iy * w + first - left, end - first);
        if (!interior_only) ck_fill_run(line + end, pad, pitch - end);
    }
}

/// The VW even and the VW odd lanes of a ++ b, in order.
#if CK_VW == 4
#define CK_EVEN_LANES(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define CK_ODD_LANES(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7)
#elif CK_VW == 8
#define CK_EVEN_LANES(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define CK_ODD_LANES(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#else
#define CK_EVEN_LANES(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define CK_ODD_LANES(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#endif

/// Each source row goes into a line whose pad columns are written once, then is split by two
/// rounds of even/odd shuffles, VW columns of every phase per step (Swift's SIMD16 shuffles were
/// lowered to 4-float pieces: the split took 12 % of a 56×56×64 Winograd layer). Two lines take
/// turns, each row copied one row ahead of its split, so that the whole-vector loads do not wait
/// for the copy's narrower stores (a failed store-to-load forward).
__attribute__((no_builtin("memcpy", "memmove", "memset")))
void CK_NAME(split4_rows)(const float *src, long h, long w, long py, long top, long left, float pad,
                          float *dst, long sub_plane, long pitch, long r0, long r1) {
    const long blocks = (pitch + CK_VW - 1) / CK_VW, total = 4 * CK_VW * blocks;
    float lines[2 * total];
    long first = left > 0 ? left : 0, end = left + w < total ? left + w : total;
    if (first > total) first = total;
    if (end < first) end = first;
    for (long l = 0; l < 2; l++) {
        ck_fill_run(lines + l * total, pad, first);
        ck_fill_run(lines + l * total + end, pad, total - end);
    }
#define CK_SPLIT4_COPY(i)                                                                          \
    do {                                                                                           \
        const long row = 4 * (i) + py - top;                                                       \
        if (row >= 0 && row < h) ck_copy_run(lines + ((i) & 1) * total + first, src + row * w + first - left, end - first); \
    } while (0)
    if (r0 < r1) CK_SPLIT4_COPY(r0);
    for (long i = r0; i < r1; i++) {
        if (i + 1 < r1) CK_SPLIT4_COPY(i + 1);
        const long iy = 4 * i + py - top;
        float *d = dst + i * pitch;
        if (iy < 0 || iy >= h) {
            for (long px = 0; px < 4; px++) ck_fill_run(d + px * sub_plane, pad, pitch);
            continue;
        }
        const float *line = lines + (i & 1) * total;
        for (long b = 0; b < blocks; b++) {
            const float *p = line + 4 * CK_VW * b;
            const ck_vf a0 = ck_load(p), a1 = ck_load(p + CK_VW), a2 = ck_load(p + 2 * CK_VW), a3 = ck_load(p + 3 * CK_VW);
            const ck_vf even0 = CK_EVEN_LANES(a0, a1), odd0 = CK_ODD_LANES(a0, a1);
            const ck_vf even1 = CK_EVEN_LANES(a2, a3), odd1 = CK_ODD_LANES(a2, a3);
            const ck_vf phase[4] = {CK_EVEN_LANES(even0, even1), CK_EVEN_LANES(odd0, odd1),
                                    CK_ODD_LANES(even0, even1), CK_ODD_LANES(odd0, odd1)};
            const long j = b * CK_VW, n = pitch - j < CK_VW ? pitch - j : CK_VW;
            for (long px = 0; px < 4; px++) {
                if (n == CK_VW) ck_store(d + px * sub_plane + j, phase[px]);
                else ck_store_partial(d + px * sub_plane + j, 1, phase[px], n);
            }
        }
    }
#undef CK_SPLIT4_COPY
}

#define CK_PACKED_CASE(n) \
    case n: ck_gemm_tile_packed(n, kc, a, b, ldb, boff, c, ldc, bias, accumulate, bounds); break;

CK_INLINE void ck_gemm_rows_packed(long mr, long kc, const float *a, const float *b, long ldb, const long *boff,
                                   float *c, long ldc, const float *bias, int accumulate, const float *bounds) {
    switch (mr) {
#if CK_MR >= 8
    CK_PACKED_CASE(8)
#endif
#if CK_MR >= 7
    CK_PACKED_CASE(7)
#endif
    CK_PACKED_CASE(6)
    CK_PACKED_CASE(5)
    CK_PACKED_CASE(4)
    CK_PACKED_CASE(3)
    CK_PACKED_CASE(2)
    CK_PACKED_CASE(1)
    default: break;
    }
}

void CK_NAME(gemm_packed)(long mr, long nr, long kc, const float *a, const float *b, long ldb, const long *b_offsets,
                          float *c, long c_rs, long c_cs, const float *bias, int accumulate, const float *bounds) {
    if (mr <= 0 || nr <= 0) return;
    if (nr == CK_NR && c_cs == 1) {
        ck_gemm_rows_packed(mr, kc, a, b, ldb, b_offsets, c, c_rs, bias, accumulate, bounds);
        return;
    }
    float tile[CK_MR * CK_NR];
    if (accumulate) ck_tile_load(tile, c, mr, nr, c_rs, c_cs);
    ck_gemm_rows_packed(mr, kc, a, b, ldb, b_offsets, tile, CK_NR, bias, accumulate, bounds);
    ck_tile_store(c, tile, mr, nr, c_rs, c_cs);
}

// MARK: Sliding windows over a pre-padded plane (depthwise convolution, max pooling)

/// v[j] = (first ? init : v[j]) + Σ_{t < NT} w[t]·src[off[t] + j] for j < n rounded up to 4·VW,
/// with the NT weights held in registers and 4 vectors in flight.
CK_INLINE void ck_flat_taps(const long NT, const float *src, const long *off, const float *w, int first,
                            float init, float *v, long n) {
    ck_vf wv[9];
    const float *p[9];
    for (long t = 0; t < NT; t++) {
        wv[t] = ck_splat(w[t]);
        p[t] = src + off[t];
    }
    for (long j = 0; j < n; j += 4 * CK_VW) {
        ck_vf a[4];
        for (long u = 0; u < 4; u++) a[u] = first ? ck_splat(init) : ck_load(v + j + u * CK_VW);
        for (long t = 0; t < NT; t++) {
            for (long u = 0; u < 4; u++) a[u] = CK_FMA(wv[t], ck_load(p[t] + j + u * CK_VW), a[u]);
        }
        for (long u = 0; u < 4; u++) ck_store(v + j + u * CK_VW, a[u]);
    }
}

/// Contiguous output rows (o_cs = 1): vectors of VW columns go straight to `out`, four in flight
/// (from one row or several); a row's last vector ends at column ow (overlapping its neighbour,
/// whose columns it computes identically), and rows narrower than VW are stored lane by lane.
CK_INLINE void ck_window_rows(const long NT, const float *src, const long *off, const float *w, long ntaps,
                              float init, long oh, long pitch, long ow, float *out, long o_rs) {
    const long taps = NT ? NT : ntaps;
    ck_vf wv[9];
    for (long t = 0; t < NT; t++) wv[t] = ck_splat(w[t]);
    const long lanes = ow < CK_VW ? ow : CK_VW;
    long y = 0, x = 0;
    while (y < oh) {
        long at[4];
        float *to[4];
        long count = 0;
        for (; count < 4 && y < oh; count++) {
            const long x0 = x + CK_VW <= ow || ow < CK_VW ? x : ow - CK_VW;
            at[count] = y * pitch + x0;
            to[count] = out + y * o_rs + x0;
            x = x0 + CK_VW;
            if (x >= ow) { x = 0; y++; }
        }
        for (long u = count; u < 4; u++) at[u] = at[0];
        ck_vf a[4];
        for (long u = 0; u < 4; u++) a[u] = ck_splat(init);
        for (long t = 0; t < taps; t++) {
            const ck_vf wt = NT ? wv[t] : ck_splat(w[t]);
            const float *s = src + off[t];
            for (long u = 0; u < 4; u++) a[u] = CK_FMA(wt, ck_load(s + at[u]), a[u]);
        }
        for (long u = 0; u < count; u++) {
            if (lanes == CK_VW) ck_store_quads(to[u], a[u]);
            else ck_store_partial(to[u], 1, a[u], lanes);
        }
    }
}

// no_builtin: the valid columns of each grid row are copied inline, not by a memcpy call per row
// (short rows of small maps).
__attribute__((no_builtin("memcpy", "memmove")))
void CK_NAME(window_sum)(const float *src, const long *off, const float *w, long ntaps, float init,
                         long oh, long pitch, long ow, float *out, long o_rs, long o_cs) {
    // Narrow contiguous rows go straight to `out`: their copy-out below would be mostly lane by
    // lane (measured 15–34 % faster at 14 columns; at 56 columns the chunked path was faster).
    if (o_cs == 1 && ow > 0 && ow < 32) {
        if (ntaps == 9) ck_window_rows(9, src, off, w, ntaps, init, oh, pitch, ow, out, o_rs);
        else ck_window_rows(0, src, off, w, ntaps, init, oh, pitch, ow, out, o_rs);
        return;
    }
    enum { CHUNK = 512 };
    float v[CHUNK];
    const long total = oh * pitch;
    for (long j0 = 0; j0 < total; j0 += CHUNK) {
        const long n = total - j0 < CHUNK ? total - j0 : CHUNK;
        if (ntaps == 0) {
            for (long j = 0; j < n; j++) v[j] = init;
        }
        for (long t0 = 0; t0 < ntaps; t0 += 9) {
            const long nt = ntaps - t0 < 9 ? ntaps - t0 : 9;
            const float *s = src + j0;
            const long *o = off + t0;
            const float *wt = w + t0;
            const int first = t0 == 0;
            switch (nt) {
            case 9: ck_flat_taps(9, s, o, wt, first, init, v, n); break;
            case 8: ck_flat_taps(8, s, o, wt, first, init, v, n); break;
            case 7: ck_flat_taps(7, s, o, wt, first, init, v, n); break;
            case 6: ck_flat_taps(6, s, o, wt, first, init, v, n); break;
            case 5: ck_flat_taps(5, s, o, wt, first, init, v, n); break;
            case 4: ck_flat_taps(4, s, o, wt, first, init, v, n); break;
            case 3: ck_flat_taps(3, s, o, wt, first, init, v, n); break;
            case 2: ck_flat_taps(2, s, o, wt, first, init, v, n); break;
            default: ck_flat_taps(1, s, o, wt, first, init, v, n); break;
            }
        }
        // The valid columns of each grid row in this chunk.
        long y = j0 / pitch, x = j0 % pitch;
        for (long j = 0; j < n;) {
            const long run = n - j < pitch - x ? n - j : pitch - x;
            const long valid = ow - x < run ? (ow - x > 0 ? ow - x : 0) : run;
            float *o = out + y * o_rs + x * o_cs;
            if (o_cs == 1) {
                for (long i = 0; i < valid; i++) o[i] = v[j + i];
            } else {
                for (long i = 0; i < valid; i++) o[i * o_cs] = v[j + i];
            }
            j += run;
            x = 0;
            y++;
        }
    }
}

/// Max-pooling's combination rule (PyTorch's): x replaces the running maximum if larger, or NaN.
CK_INLINE ck_vf ck_max_step(ck_vf best, ck_vf x) {
    const ck_vi take = (x > best) | (x != x);
    return (ck_vf)(((ck_vi)x & take) | ((ck_vi)best & ~take));
}

/// Output column ox of ck_window3x3 on its own (taps outside the plane are skipped).
CK_INLINE float ck_window3x3_column(const int MAX, const float *src, long h, long w, long stride, long iy0, long ox,
                                    const float *wt, float init) {
    float a = init;
    for (long t = 0; t < 9; t++) {
        const long iy = iy0 + t / 3, ix = stride * ox - 1 + t % 3;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        const float x = src[iy * w + ix];
        if (MAX) a = x > a || x != x ? x : a;
        else a = CK_FMA(ck_splat(wt[t]), ck_splat(x), ck_splat(a))[0];
    }
    return a;
}

/// Columns 2·x − 1 + 2·lane + kw (kw < 3) of a row for output columns x… at stride 2, in paired
/// lane order: kw = 0 is kw = 2 shifted by a lane, with column 2·x − 1 first: `before` (the
/// odd columns of the vector just before, in registers), column −1 as `pad` (x = 0), or one
/// float from memory (two loads and a shuffle for the whole vector cost 20 % more at 112² → 56²).
CK_INLINE void ck_window3x3_taps_s2(const float *row, long x, ck_vf pad, const ck_vf *before, ck_vf tap[3]) {
    const float *p = row + 2 * x;
    const ck_vf a = ck_load(p), b = ck_load(p + CK_VW);
    tap[2] = CK_ODDS(a, b);
    tap[1] = CK_EVENS(a, b);
    tap[0] = CK_PAIR_SHIFT(tap[2], before ? *before : x == 0 ? pad : ck_splat(p[-1]));
}

/// Columns x − 1 + lane + kw at stride 1: from memory, or as `pad` by a shift at the row's ends.
CK_INLINE void ck_window3x3_taps_s1(const float *row, long x, long w, ck_vf pad, ck_vf tap[3]) {
    const float *p = row + x;
    tap[1] = ck_load(p);
    tap[0] = x == 0 ? CK_SHIFT_IN(pad, tap[1]) : ck_load(p - 1);
    tap[2] = x + CK_VW == w ? CK_SHIFT_OUT(tap[1], pad) : ck_load(p + 1);
}

/// ROWS output rows of ck_window3x3 at XN (1 or 2) column vectors x[0], x[1] at once: XN·ROWS
/// independent chains of 9 dependent FMAs in flight. At stride 2 with 16-float vectors, whole-vector
/// stores (measured 3–5 % faster than 4-float pieces on Zen 4; at stride 1, 0–3 % slower).
#ifndef CK_WINDOW_PAIRS
#define CK_WINDOW_PAIRS 0
#endif
/// Output rows per pass: three (sharing input rows: two of seven at stride 2, four of five at
/// stride 1; measured 10–20 % faster than two rows, and than four, which spill AVX2's registers);
/// four at stride 1 with AVX-512's registers (six of six input rows shared; 56²×144 0.108 → 0.100 ms
/// on one thread; at stride 2 four were 3 % slower).
#define CK_WINDOW_ROWS(stride) (CK_WINDOW_PAIRS && (stride) == 1 ? 4 : 3)
enum { CK_WINDOW_MAX_ROWS = 4 };

CK_INLINE void ck_window3x3_step(const long STRIDE, const int MAX, const long XN, const float *const *rows,
                                 const long *x, long w, ck_vf pad, const ck_vf wv[9], float init, long count,
                                 float *line, long ow) {
    const long ROWS = CK_WINDOW_ROWS(STRIDE);
    const long span = STRIDE * (ROWS - 1) + 3;
    ck_vf acc[2][CK_WINDOW_MAX_ROWS];
    for (long u = 0; u < XN; u++) {
        for (long r = 0; r < ROWS; r++) acc[u][r] = ck_splat(init);
    }
#pragma clang loop unroll(full)
    for (long j = 0; j < span; j++) {
        if (!rows[j]) continue;
        ck_vf odds[2];
#pragma clang loop unroll(full)
        for (long u = 0; u < XN; u++) {
            ck_vf tap[3];
            if (STRIDE == 2) {
                const int follows = u == 1 && x[1] == x[0] + CK_VW;
                ck_window3x3_taps_s2(rows[j], x[u], pad, follows ? &odds[0] : 0, tap);
                odds[u] = tap[2];
            } else {
                ck_window3x3_taps_s1(rows[j], x[u], w, pad, tap);
            }
            // Input row j is kernel row j − r·stride of output row r (kernel rows in order).
#pragma clang loop unroll(full)
            for (long r = 0; r < ROWS; r++) {
                const long kh = j - r * STRIDE;
                if (kh < 0 || kh > 2) continue;
                for (long kw = 0; kw < 3; kw++) {
                    acc[u][r] = MAX ? ck_max_step(acc[u][r], tap[kw]) : CK_FMA(wv[3 * kh + kw], tap[kw], acc[u][r]);
                }
            }
        }
    }
    for (long u = 0; u < XN; u++) {
        for (long r = 0; r < count; r++) {
            if (STRIDE == 2 && CK_VW == 16) ck_store(line + r * ow + x[u], CK_UNPAIR(acc[u][r]));
            else ck_store_quads(line + r * ow + x[u], STRIDE == 2 ? CK_UNPAIR(acc[u][r]) : acc[u][r]);
        }
    }
}

/// A 3 × 3 window at stride 1 or 2 (dilation 1, left padding 1) straight from an h × w plane: the
/// depthwise correlation (`init` + weighted taps, in tap order) or, with MAX, max pooling (from −∞,
/// by ck_max_step in tap order). Taps outside the plane are skipped (zero / −∞ padding).
CK_INLINE void ck_window3x3(const long STRIDE, const int MAX, const float *src, long h, long w, long top,
                            const float *wt, float init, long oh, long ow, float *out) {
    const ck_vf pad = ck_splat(MAX ? -__builtin_inff() : 0.0f);
    ck_vf wv[9];
    for (long t = 0; t < 9; t++) wv[t] = ck_splat(MAX ? 0.0f : wt[t]);
    // Vectors start at 0, VW, 2·VW, … and at `last`, reading inside the row but for column −1
    // (and, at stride 1, column w). The columns from `covered` on go one at a time.
    long last = (ow < w ? ow : w) - CK_VW;
    if (STRIDE == 2) {
        last = ow - CK_VW;
        if (w - 2 * CK_VW < 2 * last) last = (w - 2 * CK_VW) / 2;
        if (w < 2 * CK_VW) last = -1;
    }
    const long covered = last >= 0 ? last + CK_VW : 0;
    // CK_WINDOW_ROWS output rows at a time share their input rows.
    const long ROWS = CK_WINDOW_ROWS(STRIDE);
    for (long oy = 0; oy < oh; oy += ROWS) {
        const long count = oh - oy < ROWS ? oh - oy : ROWS, span = STRIDE * (ROWS - 1) + 3;
        const long iy0 = STRIDE * oy - top;
        // Input rows outside the plane, or only below the last output row, are skipped.
        const float *rows[2 * (CK_WINDOW_MAX_ROWS - 1) + 3];
        for (long j = 0; j < span; j++) {
            const long iy = iy0 + j;
            rows[j] = iy >= 0 && iy < h && j < STRIDE * (count - 1) + 3 ? src + iy * w : 0;
        }
        float *line = out + oy * ow;
        // Column vectors two at a time (the last one alone if their count is odd) where the
        // registers hold both (CK_WINDOW_PAIRS, AVX-512's 32; AVX2's 16 would spill). Measured on
        // Zen 4: stride 2 6–8 % faster (1 and 2 threads), stride 1 unchanged.
        long x[2] = {0, 0};
        while (x[0] <= last) {
            x[1] = x[0] < last && x[0] + CK_VW > last ? last : x[0] + CK_VW;
            if (CK_WINDOW_PAIRS && x[1] <= last) {
                ck_window3x3_step(STRIDE, MAX, 2, rows, x, w, pad, wv, init, count, line, ow);
                x[0] = x[1] < last && x[1] + CK_VW > last ? last : x[1] + CK_VW;
            } else {
                ck_window3x3_step(STRIDE, MAX, 1, rows, x, w, pad, wv, init, count, line, ow);
                x[0] = x[1];
            }
        }
        for (long r = 0; r < count; r++) {
            for (long ox = covered; ox < ow; ox++) {
                line[r * ow + ox] = ck_window3x3_column(MAX, src, h, w, STRIDE, iy0 + r * STRIDE, ox, wt, init);
            }
        }
    }
}

/// Floats src[i + l] for lanes 0 ≤ i + l < n, `fill` in the others, reading only those lanes.
CK_INLINE ck_vf ck_load_inside(const float *src, long i, long n, ck_vf fill) {
    if (i >= 0 && i + CK_VW <= n) return ck_load(src + i);
    const ck_vi at = ck_lanes() + (int32_t)i;
    const ck_vi inside = (at >= 0) & (at < (int32_t)n);
#ifdef CK_MASKED_LOAD
    const ck_vf v = CK_MASKED_LOAD(src + i, inside);
#else
    ck_vf v = fill;
    for (long l = 0; l < CK_VW; l++) {
        if (inside[l]) v[l] = src[i + l];
    }
#endif
    return (ck_vf)(((ck_vi)v & inside) | ((ck_vi)fill & ~inside));
}

/// Σ_kh wv[3·kh + kw] · rows[kh][u], kh in order from `zero`.
CK_INLINE ck_vf ck_window3x3_column_sum(const ck_vf wv[9], long kw, ck_vf rows[3][3], long u, ck_vf zero) {
    ck_vf sum = zero;
    for (long kh = 0; kh < 3; kh++) sum = CK_FMA(wv[3 * kh + kw], rows[kh][u], sum);
    return sum;
}

/// ck_window3x3 at stride 1 with padding 1 all round on `planes` planes (h·w floats apart, weights
/// 9 apart, one init each) whose rows are narrower than a vector (MobileNets' 14 × 14 and 7 × 7
/// maps), each as one run of n = h·w floats: output j reads input j + (kh − 1)·w + kw − 1.
/// Vectors go along the run at 0, VW, …; each kernel row's kw = 1 taps are one load (rows above
/// and below the plane read as padding), and its kw = 0 and kw = 2 taps come by a lane shift from
/// the loads of the vectors before and after (one new load per kernel row and vector instead of
/// three). Taps that would wrap to the row before or after (kw = 0 in column 0, kw = 2 in column
/// w − 1) are masked out, by masks tabulated once per call (they repeat every w / gcd(w, VW)
/// vectors; computed per vector they cost 10 %). The sums keep one chain per tap column (kw = 1
/// from `init`, then kw = 0 and kw = 2 added under their masks) and shift the column sums, not the
/// taps; the maxima keep tap order. 14 × 14 on AVX-512, one thread: 91 ns a plane with three loads
/// per kernel row and vector, 83 with shifted taps, 58–62 with shifted sums; AVX2's rows 69–71.
CK_INLINE void ck_window3x3_flat(const int MAX, const float *src, long h, long w, const float *wt, const float *init,
                                 float *out, long planes) {
    const ck_vf pad = ck_splat(MAX ? -__builtin_inff() : 0.0f);
    const long n = h * w;
    long period = w;
    for (long a = w, b = CK_VW; b; period = w / a) {
        const long r = a % b;
        a = b;
        b = r;
    }
    ck_vi left[CK_VW], right[CK_VW];
    for (long k = 0; k < period; k++) {
        ck_vi ox = ck_lanes() + (int32_t)(k * CK_VW % w);
        for (long q = 0; q <= CK_VW / w; q++) ox -= (ox >= (int32_t)w) & (int32_t)w;
        left[k] = ox != 0;
        right[k] = ox != (int32_t)(w - 1);
    }
    for (long p = 0; p < planes; p++, src += n, out += n) {
        ck_vf wv[9];
        for (long t = 0; t < 9; t++) wv[t] = ck_splat(MAX ? 0.0f : wt[9 * p + t]);
        const ck_vf start = ck_splat(MAX ? -__builtin_inff() : init ? init[p] : 0.0f);
        // Kernel row kh's loads at the vectors before, at and after j (input j + (kh − 1)·w + VW·(u − 1)).
        ck_vf rows[3][3];
        for (long kh = 0; kh < 3; kh++) {
            rows[kh][0] = pad;
            rows[kh][1] = ck_load_inside(src, (kh - 1) * w, n, pad);
        }
        // The sums shift column sums instead of taps: the kw = 0 sums of the vectors before and at
        // j, the kw = 2 sums of the vectors at and after j (two shifts a vector instead of six).
        ck_vf sum0 = pad, sum2 = ck_window3x3_column_sum(wv, 2, rows, 1, pad);
        for (long j = 0, k = 0; j < n; j += CK_VW, k = k + 1 == period ? 0 : k + 1) {
            const ck_vi lk = left[k], rk = right[k];
            for (long kh = 0; kh < 3; kh++) rows[kh][2] = ck_load_inside(src, j + CK_VW + (kh - 1) * w, n, pad);
            ck_vf v = start;
            if (MAX) {
#pragma clang loop unroll(full)
                for (long kh = 0; kh < 3; kh++) {
                    ck_vf tap[3] = {CK_SHIFT_IN(rows[kh][0], rows[kh][1]), rows[kh][1],
                                    CK_SHIFT_OUT(rows[kh][1], rows[kh][2])};
                    tap[0] = (ck_vf)(((ck_vi)tap[0] & lk) | ((ck_vi)pad & ~lk));
                    tap[2] = (ck_vf)(((ck_vi)tap[2] & rk) | ((ck_vi)pad & ~rk));
                    for (long kw = 0; kw < 3; kw++) v = ck_max_step(v, tap[kw]);
                }
            } else {
                for (long kh = 0; kh < 3; kh++) v = CK_FMA(wv[3 * kh + 1], rows[kh][1], v);
                const ck_vf next0 = ck_window3x3_column_sum(wv, 0, rows, 1, pad);
                const ck_vf next2 = ck_window3x3_column_sum(wv, 2, rows, 2, pad);
                v = v + (ck_vf)((ck_vi)CK_SHIFT_IN(sum0, next0) & lk) + (ck_vf)((ck_vi)CK_SHIFT_OUT(sum2, next2) & rk);
                sum0 = next0;
                sum2 = next2;
            }
            for (long kh = 0; kh < 3; kh++) {
                rows[kh][0] = rows[kh][1];
                rows[kh][1] = rows[kh][2];
            }
            if (j + CK_VW <= n) ck_store(out + j, v);
            else ck_store_partial(out + j, 1, v, n - j);
        }
    }
}

void CK_NAME(depthwise3x3)(const float *src, long h, long w, long stride, long top, const float *wt,
                           const float *bias, long oh, long ow, float *out, long planes) {
    if (ck_window3x3_reads_flat(CK_VW, h, w, stride, top, oh, ow)) {
        ck_window3x3_flat(0, src, h, w, wt, bias, out, planes);
        return;
    }
    for (long p = 0; p < planes; p++) {
        const float *x = src + p * h * w, *k = wt + 9 * p;
        const float init = bias ? bias[p] : 0.0f;
        float *y = out + p * oh * ow;
        if (stride == 2) ck_window3x3(2, 0, x, h, w, top, k, init, oh, ow, y);
        else ck_window3x3(1, 0, x, h, w, top, k, init, oh, ow, y);
    }
}

void CK_NAME(max3x3)(const float *src, long h, long w, long stride, long top, long oh, long ow, float *out,
                     long planes) {
    if (ck_window3x3_reads_flat(CK_VW, h, w, stride, top, oh, ow)) {
        ck_window3x3_flat(1, src, h, w, 0, 0, out, planes);
        return;
    }
    const float init = -__builtin_inff();
    for (long p = 0; p < planes; p++) {
        const float *x = src + p * h * w;
        float *y = out + p * oh * ow;
        if (stride == 2) ck_window3x3(2, 1, x, h, w, top, 0, init, oh, ow, y);
        else ck_window3x3(1, 1, x, h, w, top, 0, init, oh, ow, y);
    }
}

/// 2 × 2 max pooling at stride 2 without padding straight from an h × w plane (oh ≤ h / 2,
/// ow ≤ w / 2): out[oy·ow + ox] is the maximum of input (2·oy + a, 2·ox + b) over (a, b) in
/// row-major order by PyTorch's rule (ck_max_step from −∞, the first tap's index if none is
/// taken); indices[oy·ow + ox] (int64, may be NULL) is its plane index.
void CK_NAME(max2x2)(const float *src, long w, long oh, long ow, float *out, int64_t *indices) {
    for (long oy = 0; oy < oh; oy++) {
        const float *r0 = src + 2 * oy * w, *r1 = r0 + w;
        float *o = out + oy * ow;
        int64_t *ind = indices ? indices + oy * ow : 0;
        // Whole vectors; the last one ends at ow (overlapping the one before: the same results).
        for (long next = 0; ow >= CK_VW && next < ow; next += CK_VW) {
            const long ox = next + CK_VW <= ow ? next : ow - CK_VW;
            const ck_vf a0 = ck_load(r0 + 2 * ox), b0 = ck_load(r0 + 2 * ox + CK_VW);
            const ck_vf a1 = ck_load(r1 + 2 * ox), b1 = ck_load(r1 + 2 * ox + CK_VW);
            const ck_vf tap[4] = {CK_EVENS(a0, b0), CK_ODDS(a0, b0), CK_EVENS(a1, b1), CK_ODDS(a1, b1)};
            ck_vf best = ck_splat(-__builtin_inff());
            ck_vi which = (ck_vi)0;
            for (int t = 0; t < 4; t++) {
                const ck_vi take = (tap[t] > best) | (tap[t] != tap[t]);
                best = (ck_vf)(((ck_vi)tap[t] & take) | ((ck_vi)best & ~take));
                which = ((ck_vi)t & take) | (which & ~take);
            }
            ck_store(o + ox, CK_UNPAIR(best));
            if (ind) {
                // Plane index 2·oy·w + 2·(ox + lane) + (tap / 2)·w + tap % 2 (planes < 2³¹ floats).
                const ck_vi tap_id = CK_UNPAIR(which);
                const ck_vi idx = (ck_vi)(int32_t)(2 * oy * w + 2 * ox) + 2 * ck_lanes() + (tap_id >> 1) * (ck_vi)(int32_t)w + (tap_id & 1);
                *(ck_vlu *)(ind + ox) = __builtin_convertvector(idx, ck_vl);
            }
        }
        // Rows narrower than a vector, one output at a time.
        for (long ox = 0; ow < CK_VW && ox < ow; ox++) {
            const float tap[4] = {r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]};
            float best = -__builtin_inff();
            int which = 0;
            for (int t = 0; t < 4; t++) {
                const int take = tap[t] > best || tap[t] != tap[t];
                best = take ? tap[t] : best;
                which = take ? t : which;
            }
            o[ox] = best;
            if (ind) ind[ox] = (2 * oy + (which >> 1)) * w + 2 * ox + (which & 1);
        }
    }
}

CK_INLINE float ck_hsum(ck_vf v) {
    float lanes[CK_VW];
    ck_store(lanes, v);
    // Pairwise, in a fixed order.
    for (long width = CK_VW / 2; width > 0; width /= 2) {
        for (long l = 0; l < width; l++) lanes[l] += lanes[l + width];
    }
    return lanes[0];
}

void CK_NAME(window_dot)(const float *src, const long *off, long ntaps, const float *g, long count,
                         float *grad) {
    enum { CHUNK = 8 };
    for (long t0 = 0; t0 < ntaps; t0 += CHUNK) {
        const long nt = ntaps - t0 < CHUNK ? ntaps - t0 : CHUNK;
        ck_vf acc[CHUNK];
        const float *p[CHUNK];
        for (long t = 0; t < CHUNK; t++) {
            acc[t] = ck_splat(0.0f);
            p[t] = src + off[t0 + (t < nt ? t : 0)];
        }
        if (nt == CHUNK) {
            for (long j = 0; j < count; j += CK_VW) {
                const ck_vf gv = ck_load(g + j);
#pragma clang loop unroll(full)
                for (long t = 0; t < CHUNK; t++) acc[t] = CK_FMA(gv, ck_load(p[t] + j), acc[t]);
            }
        } else {
            for (long j = 0; j < count; j += CK_VW) {
                const ck_vf gv = ck_load(g + j);
                for (long t = 0; t < nt; t++) acc[t] = CK_FMA(gv, ck_load(p[t] + j), acc[t]);
            }
        }
        for (long t = 0; t < nt; t++) grad[t0 + t] += ck_hsum(acc[t]);
    }
}

/// Running maximum and argmax over NT taps for j < n rounded up to VW (see ck_max_pool_fn).
CK_INLINE void ck_max_taps(const long NT, const int WANT_INDEX, const float *src, const long *off, const int32_t *toff,
                           int first, const int32_t *base, const int32_t *first_index, float *v, int32_t *ix, long n) {
    const float *p[9];
    ck_vi to[9];
    for (long t = 0; t < NT; t++) {
        p[t] = src + off[t];
        to[t] = (ck_vi)toff[t];
    }
    for (long j = 0; j < n; j += 2 * CK_VW) {
        ck_vf best[2];
        ck_vi index[2], b[2];
        for (long u = 0; u < 2; u++) {
            best[u] = first ? ck_splat(-__builtin_inff()) : ck_load(v + j + u * CK_VW);
            if (WANT_INDEX) {
                b[u] = *(const ck_viu *)(base + j + u * CK_VW);
                index[u] = first ? *(const ck_viu *)(first_index + j + u * CK_VW) : *(const ck_viu *)(ix + j + u * CK_VW);
            }
        }
        for (long t = 0; t < NT; t++) {
            for (long u = 0; u < 2; u++) {
                const ck_vf x = ck_load(p[t] + j + u * CK_VW);
                const ck_vi take = (x > best[u]) | (x != x);
                best[u] = (ck_vf)(((ck_vi)x & take) | ((ck_vi)best[u] & ~take));
                if (WANT_INDEX) index[u] = ((b[u] + to[t]) & take) | (index[u] & ~take);
            }
        }
        for (long u = 0; u < 2; u++) {
            ck_store(v + j + u * CK_VW, best[u]);
            if (WANT_INDEX) *(ck_viu *)(ix + j + u * CK_VW) = index[u];
        }
    }
}

void CK_NAME(max_pool)(const float *src, const long *off, const int32_t *toff, long ntaps,
                       const int32_t *base, const int32_t *first, long oh, long pitch, long ow,
                       float *out, int64_t *indices) {
    enum { CHUNK = 512 };
    float v[CHUNK];
    int32_t ix[CHUNK];
    const long total = oh * pitch;
    for (long j0 = 0; j0 < total; j0 += CHUNK) {
        const long n = total - j0 < CHUNK ? total - j0 : CHUNK;
        for (long t0 = 0; t0 < ntaps || t0 == 0; t0 += 9) {
            const long nt = ntaps - t0 < 9 ? ntaps - t0 : 9;
            const float *s = src + j0;
            const long *o = off + t0;
            const int32_t *to = toff + t0;
            const int f = t0 == 0;
            // The argmax bookkeeping only when indices are wanted (a pass without them is cheaper).
#define CK_MAX_CASE(t, w) case t: ck_max_taps(t, w, s, o, to, f, base + j0, first + j0, v, ix, n); break;
#define CK_MAX_SWITCH(w) switch (nt) { CK_MAX_CASE(9, w) CK_MAX_CASE(8, w) CK_MAX_CASE(7, w) CK_MAX_CASE(6, w) \
    CK_MAX_CASE(5, w) CK_MAX_CASE(4, w) CK_MAX_CASE(3, w) CK_MAX_CASE(2, w) CK_MAX_CASE(1, w) CK_MAX_CASE(0, w) default: break; }
            if (indices) { CK_MAX_SWITCH(1) } else { CK_MAX_SWITCH(0) }
#undef CK_MAX_SWITCH
#undef CK_MAX_CASE
            if (ntaps == 0) break;
        }
        long y = j0 / pitch, x = j0 % pitch;
        for (long j = 0; j < n;) {
            const long run = n - j < pitch - x ? n - j : pitch - x;
            const long valid = ow - x < run ? (ow - x > 0 ? ow - x : 0) : run;
            float *o = out + y * ow + x;
            for (long i = 0; i < valid; i++) o[i] = v[j + i];
            if (indices) {
                int64_t *d = indices + y * ow + x;
                for (long i = 0; i < valid; i++) d[i] = ix[j + i];
            }
            j += run;
            x = 0;
            y++;
        }
    }
}

// MARK: Winograd F(m×m, 3×3), m = 4 or 2

/// p[4l + j] = o[j][l]: four vectors interleaved lane by lane.
CK_INLINE void ck_store4_interleaved(float *p, const ck_vf o[4]) {
#if CK_VW == 4
    const ck_vf ab0 = __builtin_shufflevector(o[0], o[1], 0, 4, 1, 5), ab1 = __builtin_shufflevector(o[0], o[1], 2, 6, 3, 7);
    const ck_vf cd0 = __builtin_shufflevector(o[2], o[3], 0, 4, 1, 5), cd1 = __builtin_shufflevector(o[2], o[3], 2, 6, 3, 7);
    ck_store(p, __builtin_shufflevector(ab0, cd0, 0, 1, 4, 5));
    ck_store(p + 4, __builtin_shufflevector(ab0, cd0, 2, 3, 6, 7));
    ck_store(p + 8, __builtin_shufflevector(ab1, cd1, 0, 1, 4, 5));
    ck_store(p + 12, __builtin_shufflevector(ab1, cd1, 2, 3, 6, 7));
#elif CK_VW == 8
    const ck_vf ab0 = __builtin_shufflevector(o[0], o[1], 0, 8, 1, 9, 2, 10, 3, 11);
    const ck_vf ab1 = __builtin_shufflevector(o[0], o[1], 4, 12, 5, 13, 6, 14, 7, 15);
    const ck_vf cd0 = __builtin_shufflevector(o[2], o[3], 0, 8, 1, 9, 2, 10, 3, 11);
    const ck_vf cd1 = __builtin_shufflevector(o[2], o[3], 4, 12, 5, 13, 6, 14, 7, 15);
    ck_store(p, __builtin_shufflevector(ab0, cd0, 0, 1, 8, 9, 2, 3, 10, 11));
    ck_store(p + 8, __builtin_shufflevector(ab0, cd0, 4, 5, 12, 13, 6, 7, 14, 15));
    ck_store(p + 16, __builtin_shufflevector(ab1, cd1, 0, 1, 8, 9, 2, 3, 10, 11));
    ck_store(p + 24, __builtin_shufflevector(ab1, cd1, 4, 5, 12, 13, 6, 7, 14, 15));
#else
    float lanes[4][CK_VW];
    for (long j = 0; j < 4; j++) ck_store(lanes[j], o[j]);
    for (long l = 0; l < CK_VW; l++) {
        for (long j = 0; j < 4; j++) p[4 * l + j] = lanes[j][l];
    }
#endif
}

/// p[2l + j] = o[j][l]: two vectors interleaved lane by lane.
CK_INLINE void ck_store2_interleaved(float *p, const ck_vf o[2]) {
#if CK_VW == 4
    ck_store(p, __builtin_shufflevector(o[0], o[1], 0, 4, 1, 5));
    ck_store(p + 4, __builtin_shufflevector(o[0], o[1], 2, 6, 3, 7));
#elif CK_VW == 8
    ck_store(p, __builtin_shufflevector(o[0], o[1], 0, 8, 1, 9, 2, 10, 3, 11));
    ck_store(p + 8, __builtin_shufflevector(o[0], o[1], 4, 12, 5, 13, 6, 14, 7, 15));
#else
    ck_store(p, __builtin_shufflevector(o[0], o[1], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    ck_store(p + CK_VW, __builtin_shufflevector(o[0], o[1], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
#endif
}

/// Bᵀ applied to α = m + 2 values (one column or row of an α×α input patch).
CK_INLINE void ck_wino_bt(const long M, const ck_vf d[6], ck_vf o[6]) {
    if (M == 2) {
        o[0] = d[0] - d[2];
        o[1] = d[1] + d[2];
        o[2] = d[2] - d[1];
        o[3] = d[1] - d[3];
        return;
    }
    const ck_vf four = ck_splat(4.0f), five = ck_splat(5.0f), two = ck_splat(2.0f);
    o[0] = four * d[0] - five * d[2] + d[4];
    o[1] = -four * (d[1] + d[2]) + d[3] + d[4];
    o[2] = four * (d[1] - d[2]) - d[3] + d[4];
    o[3] = two * (d[3] - d[1]) - d[2] + d[4];
    o[4] = two * (d[1] - d[3]) - d[2] + d[4];
    o[5] = four * d[1] - five * d[3] + d[5];
}

/// Aᵀ applied to α values (m results).
CK_INLINE void ck_wino_at(const long M, const ck_vf m[6], ck_vf o[4]) {
    if (M == 2) {
        o[0] = m[0] + m[1] + m[2];
        o[1] = m[1] - m[2] - m[3];
        return;
    }
    const ck_vf a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
    o[0] = m[0] + a + c;
    o[1] = b + ck_splat(2.0f) * d;
    o[2] = a + ck_splat(4.0f) * c;
    o[3] = b + ck_splat(8.0f) * d + m[5];
}

/// G applied to 3 values (α results).
CK_INLINE void ck_wino_g(const long M, const ck_vf g[3], ck_vf o[6]) {
    if (M == 2) {
        const ck_vf half = ck_splat(0.5f);
        o[0] = g[0];
        o[1] = half * (g[0] + g[1] + g[2]);
        o[2] = half * (g[0] - g[1] + g[2]);
        o[3] = g[2];
        return;
    }
    const ck_vf sixth = ck_splat(1.0f / 6.0f);
    o[0] = ck_splat(0.25f) * g[0];
    o[1] = -sixth * (g[0] + g[1] + g[2]);
    o[2] = -sixth * (g[0] - g[1] + g[2]);
    o[3] = ck_splat(1.0f / 24.0f) * g[0] + ck_splat(1.0f / 12.0f) * g[1] + sixth * g[2];
    o[4] = ck_splat(1.0f / 24.0f) * g[0] - ck_splat(1.0f / 12.0f) * g[1] + sixth * g[2];
    o[5] = g[2];
}

CK_INLINE void ck_winograd_weights(const long M, const float *w, long pairs, float *u, long pair_stride, long u_stride) {
    const long A = M + 2;
    for (long p = 0; p < pairs; p += CK_VW) {
        const long n = pairs - p < CK_VW ? pairs - p : CK_VW;
        // Lane by lane into registers (a stack array read back as vectors stalls on store forwarding).
        ck_vf g[9];
        for (long i = 0; i < 9; i++) g[i] = ck_splat(0.0f);
        for (long l = 0; l < n; l++) {
            for (long i = 0; i < 9; i++) g[i][l] = w[(p + l) * 9 + i];
        }
        // tmp = G g (α×3), then U = tmp Gᵀ (α×α).
        ck_vf tmp[6][3];
        for (long c = 0; c < 3; c++) {
            const ck_vf col[3] = {g[c], g[3 + c], g[6 + c]};
            ck_vf o[6];
            ck_wino_g(M, col, o);
            for (long r = 0; r < A; r++) tmp[r][c] = o[r];
        }
        for (long r = 0; r < A; r++) {
            ck_vf o[6];
            ck_wino_g(M, tmp[r], o);
            for (long c = 0; c < A; c++) {
                float *dst = u + (r * A + c) * u_stride + p * pair_stride;
                if (n == CK_VW && pair_stride == 1) ck_store(dst, o[c]);
                else ck_store_partial(dst, pair_stride, o[c], n);
            }
        }
    }
}

void CK_NAME(winograd_weights)(long m, const float *w, long pairs, float *u, long pair_stride, long u_stride) {
    if (m == 2) ck_winograd_weights(2, w, pairs, u, pair_stride, u_stride);
    else ck_winograd_weights(4, w, pairs, u, pair_stride, u_stride);
}

typedef float ck_vhu __attribute__((ext_vector_type(CK_VW / 2), aligned(4)));

/// CK_VW / 2 floats at p, then CK_VW / 2 floats at p + pitch, as one vector.
CK_INLINE ck_vf ck_load_pair(const float *p, long pitch) {
    const ck_vhu lo = *(const ck_vhu *)p, hi = *(const ck_vhu *)(p + pitch);
#if CK_VW == 4
    return __builtin_shufflevector(lo, hi, 0, 1, 2, 3);
#elif CK_VW == 8
    return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7);
#else
    return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#endif
}

/// The input transform of the tiles in lanes: tiles (y, x …) of one row, or — `paired`, when a row
/// has CK_VW / 2 tiles — of rows y and y + 1, which are consecutive in v.
CK_INLINE void ck_wino_input_group(const long M, const float *src, long sub_plane, long pitch, long y, long x, long n,
                                   int paired, float *out, long v_stride) {
    const long A = M + 2;
    // Column transform: t[ξ][c] = Σ_r Bᵀ[ξ][r] d[r][c].
    ck_vf t[6][6];
    for (long c = 0; c < A; c++) {
        ck_vf d[6], o[6];
        for (long r = 0; r < A; r++) {
            const float *p = src + ((r % M) * M + c % M) * sub_plane + (y + r / M) * pitch + x + c / M;
            d[r] = paired ? ck_load_pair(p, pitch) : ck_load(p);
        }
        ck_wino_bt(M, d, o);
        for (long r = 0; r < A; r++) t[r][c] = o[r];
    }
    // Row transform: V[ξ][ν] = Σ_c t[ξ][c] B[c][ν].
    for (long r = 0; r < A; r++) {
        ck_vf o[6];
        ck_wino_bt(M, t[r], o);
        for (long c = 0; c < A; c++) {
            if (n == CK_VW) ck_store(out + (r * A + c) * v_stride, o[c]);
            else ck_store_partial(out + (r * A + c) * v_stride, 1, o[c], n);
        }
    }
}

CK_INLINE void ck_winograd_input(const long M, const float *src, long sub_plane, long pitch, long tiles_y, long tiles_x,
                                 float *v, long v_stride) {
    long y = 0;
    if (2 * tiles_x == CK_VW) {
        // Two rows of tiles fill a vector (14×14 images with 8 lanes): whole-vector stores.
        for (; y + 1 < tiles_y; y += 2) {
            ck_wino_input_group(M, src, sub_plane, pitch, y, 0, CK_VW, 1, v + y * tiles_x, v_stride);
        }
    }
    for (; y < tiles_y; y++) {
        for (long x = 0; x < tiles_x; x += CK_VW) {
            const long n = tiles_x - x < CK_VW ? tiles_x - x : CK_VW;
            ck_wino_input_group(M, src, sub_plane, pitch, y, x, n, 0, v + y * tiles_x + x, v_stride);
        }
    }
}

// Partial vectors (fewer tiles than lanes) are copied lane by lane; no_builtin keeps those short
// copies inline instead of library memcpy calls (measured: 10 % of a 14×14 layer's time).
__attribute__((no_builtin("memcpy", "memmove")))
void CK_NAME(winograd_input)(long m, const float *src, long sub_plane, long pitch, long tiles_y, long tiles_x,
                             float *v, long v_stride) {
    if (m == 2) ck_winograd_input(2, src, sub_plane, pitch, tiles_y, tiles_x, v, v_stride);
    else ck_winograd_input(4, src, sub_plane, pitch, tiles_y, tiles_x, v, v_stride);
}

CK_INLINE void ck_winograd_output(const long M, const float *m, long m_stride, long tiles_y, long tiles_x, float bias,
                                  const float *bounds, float *out, long oh, long ow) {
    const long A = M + 2;
    const ck_vf lo = ck_splat(bounds ? bounds[0] : 0.0f), hi = ck_splat(bounds ? bounds[1] : 0.0f);
    for (long y = 0; y < tiles_y; y++) {
        for (long x = 0; x < tiles_x; x += CK_VW) {
            const long n = tiles_x - x < CK_VW ? tiles_x - x : CK_VW;
            const float *in = m + y * tiles_x + x;
            // Column transform over ξ, then row transform over ν.
            ck_vf t[4][6];
            for (long c = 0; c < A; c++) {
                ck_vf col[6], o[4];
                // Whole vectors even for a partial group (lanes ≥ n are never stored): m has
                // CK_VW floats of slack after its end.
                for (long r = 0; r < A; r++) col[r] = ck_load(in + (r * A + c) * m_stride);
                ck_wino_at(M, col, o);
                for (long i = 0; i < M; i++) t[i][c] = o[i];
            }
            for (long i = 0; i < M; i++) {
                const long oy = M * y + i;
                if (oy >= oh) break;
                ck_vf o[4];
                ck_wino_at(M, t[i], o);
                for (long j = 0; j < M; j++) o[j] += ck_splat(bias);
                if (bounds) {
                    for (long j = 0; j < M; j++) {
                        o[j] = o[j] < lo ? lo : o[j];
                        o[j] = o[j] > hi ? hi : o[j];
                    }
                }
                float *row = out + oy * ow;
                // Interleave the M columns of CK_VW tiles into M·CK_VW consecutive outputs.
                if (n == CK_VW && M * (x + CK_VW) <= ow) {
                    if (M == 2) ck_store2_interleaved(row + M * x, o);
                    else ck_store4_interleaved(row + M * x, o);
                    continue;
                }
                float lanes[4 * CK_VW];
                if (M == 2) ck_store2_interleaved(lanes, o);
                else ck_store4_interleaved(lanes, o);
                const long count = ow - M * x < M * n ? ow - M * x : M * n;
                for (long l = 0; l < count; l++) row[M * x + l] = lanes[l];
            }
        }
    }
}

__attribute__((no_builtin("memcpy", "memmove")))
void CK_NAME(winograd_output)(long m, const float *mm, long m_stride, long tiles_y, long tiles_x, float bias,
                              const float *bounds, float *out, long oh, long ow) {
    if (m == 2) ck_winograd_output(2, mm, m_stride, tiles_y, tiles_x, bias, bounds, out, oh, ow);
    else ck_winograd_output(4, mm, m_stride, tiles_y, tiles_x, bias, bounds, out, oh, ow);
}

const ck_kernels CK_NAME(table) = {
    .name = CK_TABLE_NAME,
    .isa = CK_TABLE_ISA,
    .mr = CK_MR,
    .nr = CK_NR,
    .vw = CK_VW,
    .gemm = CK_NAME(gemm),
    .gemm_packed = CK_NAME(gemm_packed),
    .gather_rows = CK_NAME(gather_rows),
    .gemm_taps = CK_NAME(gemm_taps),
    .transpose_out = CK_NAME(transpose_out),
    .pad_plane = CK_NAME(pad_plane),
    .split4_rows = CK_NAME(split4_rows),
    .window_sum = CK_NAME(window_sum),
    .depthwise3x3 = CK_NAME(depthwise3x3),
    .max3x3 = CK_NAME(max3x3),
    .max2x2 = CK_NAME(max2x2),
    .window_dot = CK_NAME(window_dot),
    .max_pool = CK_NAME(max_pool),
    .winograd_weights = CK_NAME(winograd_weights),
    .winograd_input = CK_NAME(winograd_input),
    .winograd_output = CK_NAME(winograd_output),
};
