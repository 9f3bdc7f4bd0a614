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

/// Lanes 0..<n of v to p[l·stride].
CK_INLINE void ck_store_partial(float *p, long stride, ck_vf v, long n) {
    float lanes[CK_VW];
    ck_store(lanes, v);
    for (long l = 0; l < n; l++) p[l * stride] = lanes[l];
}

/// CK_VW floats starting at p, p + sx, p + 2·sx, … (reads lanes ≥ n only when sx ≤ 2).
CK_INLINE ck_vf ck_load_strided(const float *p, long sx, long n) {
    if (sx == 1) return ck_load(p);
    if (sx == 2) {
        ck_vf lo = ck_load(p), hi = ck_load(p + CK_VW);
#if CK_VW == 4
        return __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
#elif CK_VW == 8
        return __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
#else
        return __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
#endif
    }
    float lanes[CK_VW] = {0};
    for (long l = 0; l < n; l++) lanes[l] = p[l * sx];
    return ck_load(lanes);
}

// MARK: GEMM micro-kernel

/// The register tile: MR rows × CK_NV vectors, C contiguous per row, all NR columns. B row k is
/// b + boff[k] (INDIRECT) or b + k·ldb.
CK_INLINE void ck_gemm_tile(const long MR, const int INDIRECT, long kc, const float *const *a, long a_ks,
                            const float *b, long ldb, const long *boff,
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
        const float *brow = INDIRECT ? b + boff[k] : b + k * ldb;
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
    case n: ck_gemm_tile(n, INDIRECT, kc, a, a_ks, b, ldb, boff, c, ldc, bias, accumulate); break;

CK_INLINE void ck_gemm_rows(long mr, const int INDIRECT, long kc, const float *const *a, long a_ks,
                            const float *b, long ldb, const long *boff,
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

void CK_NAME(gemm)(long mr, long nr, long kc, const float *const *a, long a_ks,
                   const float *b, long ldb, float *c, long c_rs, long c_cs,
                   const float *bias, int accumulate) {
    if (mr <= 0 || nr <= 0) return;
    if (nr == CK_NR && c_cs == 1) {
        ck_gemm_rows(mr, 0, kc, a, a_ks, b, ldb, 0, c, c_rs, bias, accumulate);
        return;
    }
    // Edge or scattered tile: the same arithmetic on a local copy.
    float tile[CK_MR * CK_NR];
    if (accumulate) {
        for (long r = 0; r < mr; r++) {
            for (long j = 0; j < nr; j++) tile[r * CK_NR + j] = c[r * c_rs + j * c_cs];
            for (long j = nr; j < CK_NR; j++) tile[r * CK_NR + j] = 0.0f;
        }
    }
    ck_gemm_rows(mr, 0, kc, a, a_ks, b, ldb, 0, tile, CK_NR, bias, accumulate);
    for (long r = 0; r < mr; r++) {
        for (long j = 0; j < nr; j++) c[r * c_rs + j * c_cs] = tile[r * CK_NR + j];
    }
}

void CK_NAME(gemm_indirect)(long mr, long kc, const float *const *a, long a_ks,
                            const float *b, const long *b_offsets,
                            float *c, long ldc, const float *bias, int accumulate) {
    if (mr <= 0) return;
    ck_gemm_rows(mr, 1, kc, a, a_ks, b, 0, b_offsets, c, ldc, bias, accumulate);
}

// MARK: Sliding windows over a pre-padded plane (depthwise convolution, max pooling)

void CK_NAME(window_sum)(const float *in, long ldin, long sy, long sx,
                         const long *ty, const long *tx, const float *w, long ntaps,
                         float init, float *out, long oh, long ow, long o_rs, long o_cs) {
    enum { U = 4 };
    for (long oy = 0; oy < oh; oy++) {
        const float *row = in + oy * sy * ldin;
        float *orow = out + oy * o_rs;
        long ox = 0;
        for (; ox + U * CK_VW <= ow; ox += U * CK_VW) {
            ck_vf acc[U];
            for (long u = 0; u < U; u++) acc[u] = ck_splat(init);
            for (long t = 0; t < ntaps; t++) {
                const float *p = row + ty[t] * ldin + tx[t] + ox * sx;
                ck_vf wv = ck_splat(w[t]);
                for (long u = 0; u < U; u++) acc[u] = CK_FMA(wv, ck_load_strided(p + u * CK_VW * sx, sx, CK_VW), acc[u]);
            }
            if (o_cs == 1) {
                for (long u = 0; u < U; u++) ck_store(orow + ox + u * CK_VW, acc[u]);
            } else {
                for (long u = 0; u < U; u++) ck_store_partial(orow + (ox + u * CK_VW) * o_cs, o_cs, acc[u], CK_VW);
            }
        }
        for (; ox < ow; ox += CK_VW) {
            long n = ow - ox < CK_VW ? ow - ox : CK_VW;
            ck_vf acc = ck_splat(init);
            for (long t = 0; t < ntaps; t++) {
                const float *p = row + ty[t] * ldin + tx[t] + ox * sx;
                acc = CK_FMA(ck_splat(w[t]), ck_load_strided(p, sx, n), acc);
            }
            if (n == CK_VW && o_cs == 1) ck_store(orow + ox, acc);
            else ck_store_partial(orow + ox * o_cs, o_cs, acc, n);
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

void CK_NAME(window_dot)(const float *in, long ldin, long sy, long sx,
                         const long *ty, const long *tx, long ntaps,
                         const float *g, long ldg, long oh, long ow, float *grad) {
    enum { CHUNK = 12 };
    for (long t0 = 0; t0 < ntaps; t0 += CHUNK) {
        long nt = ntaps - t0 < CHUNK ? ntaps - t0 : CHUNK;
        ck_vf acc[CHUNK];
        for (long t = 0; t < nt; t++) acc[t] = ck_splat(0.0f);
        for (long oy = 0; oy < oh; oy++) {
            const float *row = in + oy * sy * ldin;
            const float *grow = g + oy * ldg;
            for (long ox = 0; ox < ow; ox += CK_VW) {
                long n = ow - ox < CK_VW ? ow - ox : CK_VW;
                ck_vf gv;
                if (n == CK_VW) {
                    gv = ck_load(grow + ox);
                } else {
                    float lanes[CK_VW] = {0};
                    for (long l = 0; l < n; l++) lanes[l] = grow[ox + l];
                    gv = ck_load(lanes);
                }
                for (long t = 0; t < nt; t++) {
                    const float *p = row + ty[t0 + t] * ldin + tx[t0 + t] + ox * sx;
                    acc[t] = CK_FMA(gv, ck_load_strided(p, sx, n), acc[t]);
                }
            }
        }
        for (long t = 0; t < nt; t++) grad[t0 + t] += ck_hsum(acc[t]);
    }
}

void CK_NAME(max_pool)(const float *in, long ldin, long sy, long sx,
                       const long *ty, const long *tx, const int32_t *toff, long ntaps,
                       const int32_t *base_y, const int32_t *base_x,
                       const int32_t *first_y, const int32_t *first_x,
                       float *out, int64_t *indices, long oh, long ow) {
    for (long oy = 0; oy < oh; oy++) {
        const float *row = in + oy * sy * ldin;
        for (long ox = 0; ox < ow; ox += CK_VW) {
            long n = ow - ox < CK_VW ? ow - ox : CK_VW;
            ck_vf best = ck_splat(-__builtin_inff());
            ck_vi index = (ck_vi)first_y[oy] + *(const ck_viu *)(first_x + ox);
            ck_vi base = (ck_vi)base_y[oy] + *(const ck_viu *)(base_x + ox);
            for (long t = 0; t < ntaps; t++) {
                ck_vf v = ck_load_strided(row + ty[t] * ldin + tx[t] + ox * sx, sx, n);
                ck_vi take = (v > best) | (v != v);
                best = (ck_vf)(((ck_vi)v & take) | ((ck_vi)best & ~take));
                index = ((base + toff[t]) & take) | (index & ~take);
            }
            if (n == CK_VW) {
                ck_store(out + oy * ow + ox, best);
                if (indices) *(ck_vlu *)(indices + oy * ow + ox) = __builtin_convertvector(index, ck_vl);
            } else {
                ck_store_partial(out + oy * ow + ox, 1, best, n);
                if (indices) {
                    int32_t lanes[CK_VW];
                    *(ck_viu *)lanes = index;
                    for (long l = 0; l < n; l++) indices[oy * ow + ox + l] = lanes[l];
                }
            }
        }
    }
}

const ck_kernels CK_NAME(table) = {
    .name = CK_TABLE_NAME,
    .isa = CK_TABLE_ISA,
    .mr = CK_MR,
    .nr = CK_NR,
    .vw = CK_VW,
    .gemm = CK_NAME(gemm),
    .gemm_indirect = CK_NAME(gemm_indirect),
    .window_sum = CK_NAME(window_sum),
    .window_dot = CK_NAME(window_dot),
    .max_pool = CK_NAME(max_pool),
};
