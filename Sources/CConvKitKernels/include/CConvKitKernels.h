// CConvKitKernels: the few leaf kernels of ConvKit that need instructions the default Swift target
// cannot emit (FMA, AVX2, AVX-512). Each kernel is written once (KernelTemplate.h) over a clang
// vector type and compiled several times, each copy with its own per-function target attribute
// (no compiler flags); ck_kernels_for() hands out the table for the CPU we run on.
//
// Everything else (planning, packing, threading, layouts) lives in Swift.
#ifndef CCONVKITKERNELS_H
#define CCONVKITKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels, best last. A table exists for a level only if it is compiled for this
/// architecture and the CPU supports it.
typedef enum ck_isa {
    CK_ISA_PORTABLE = 0,  ///< any CPU: clang vectors lowered to the baseline target (SSE2 / NEON)
    CK_ISA_NEON = 1,      ///< AArch64 Advanced SIMD with fused multiply-add
    CK_ISA_AVX2 = 2,      ///< x86-64 AVX2 + FMA3
    CK_ISA_AVX512 = 3,    ///< x86-64 AVX-512F
} ck_isa;

/// C[r, j] = init[r, j] + Σ_{k < kc} A[r, k] · B[k, j]   for r < mr ≤ MR, j < nr ≤ NR, where
/// init is C itself (accumulate != 0), bias[r] (bias != NULL), or 0. The sum runs in k order as one
/// chain of fused multiply-adds per element, so splitting kc into blocks (accumulate on all but
/// the first) gives bit-identical results.
/// A[r, k] = a[r][k·a_ks] (one pointer per row); B row k = b + k·ldb with NR readable floats
/// (columns ≥ nr are read and ignored); C[r, j] = c[r·c_rs + j·c_cs].
typedef void (*ck_gemm_fn)(long mr, long nr, long kc,
                           const float *const *a, long a_ks,
                           const float *b, long ldb,
                           float *c, long c_rs, long c_cs,
                           const float *bias, int accumulate);

/// The product with A packed: A[r, k] = a[k·mr + r] (a panel of mr rows, k-major). B row k is
/// b + b_offsets[k] (b_offsets != NULL: indirect convolution, each row a contiguous run of a
/// prepared input, so no im2col panel is built) or b + k·ldb, NR readable floats; C[r, j] = c[r·c_rs + j·c_cs]
/// for j < nr. Same init and summation order as ck_gemm_fn. Unless `bounds` is NULL, the results
/// are then clamped to [bounds[0], bounds[1]] in registers (a fused activation, on the last K
/// block; as in winograd_output).
typedef void (*ck_gemm_packed_fn)(long mr, long nr, long kc, const float *a,
                                  const float *b, long ldb, const long *b_offsets,
                                  float *c, long c_rs, long c_cs, const float *bias, int accumulate,
                                  const float *bounds);

/// Depthwise window sum over a prepared source (a zero-padded, stride-phase-split plane in which
/// every tap is a contiguous run): for grid positions j = y·pitch + x (y < oh, x < pitch)
///   v[j] = init + Σ_t w[t] · src[off[t] + j]          (taps added in t order)
/// and out[y·o_rs + x·o_cs] = v[j] for x < ow (the other columns are dropped). Reads src up to
/// max(off) + oh·pitch + 4·VW floats.
typedef void (*ck_window_sum_fn)(const float *src, const long *off, const float *w, long ntaps, float init,
                                 long oh, long pitch, long ow, float *out, long o_rs, long o_cs);

/// Depthwise 3 × 3 correlation at stride 1 or 2 (dilation 1, left padding 1) straight from
/// `planes` h × w planes (no padded copy; input planes h·w floats apart, output planes oh·ow, the
/// weights 9, the biases 1; bias may be NULL for none): for each plane, oy < oh, ox < ow,
///   out[oy·ow + ox] = bias + Σ_{kh, kw < 3} wt[3·kh + kw] · src[(s·oy + kh − top)·w + s·ox + kw − 1]
/// (taps in that order; taps outside the plane add nothing, as zero padding). Where
/// ck_window3x3_reads_flat, each plane is read as one run of h·w floats and each tap column's
/// three taps are summed apart, then added: bias + Σ_kh (kw = 1) + Σ_kh (kw = 0) + Σ_kh (kw = 2).
typedef void (*ck_depthwise3x3_fn)(const float *src, long h, long w, long stride, long top, const float *wt,
                                   const float *bias, long oh, long ow, float *out, long planes);

/// Whether the 3 × 3 window kernels with vw-float vectors read an h × w plane as one run of h·w
/// floats: stride 1, padding 1 all round (oh = h, ow = w), rows narrower than a vector, and a
/// plane of at least one vector (and below 2³⁰ floats: lane indices are 32-bit).
static inline int ck_window3x3_reads_flat(long vw, long h, long w, long stride, long top, long oh, long ow) {
    return stride == 1 && top == 1 && oh == h && ow == w && w < vw && h * w >= vw && h * w < (1L << 30);
}

/// 3 × 3 max pooling over the same kind of planes (stride 1 or 2, dilation 1, left padding 1, −∞
/// outside): out[oy·ow + ox] = the maximum of the window's taps in row-major order by PyTorch's
/// rule (a later tap replaces the maximum if larger, or NaN).
typedef void (*ck_max3x3_fn)(const float *src, long h, long w, long stride, long top, long oh, long ow, float *out,
                             long planes);

/// 2 × 2 max pooling at stride 2 without padding straight from a plane of width w (oh, ow at most
/// half its height and width): out[oy·ow + ox] = the maximum of input rows 2·oy, 2·oy + 1 and columns
/// 2·ox, 2·ox + 1 in row-major order by PyTorch's rule (a later tap replaces the maximum if larger,
/// or NaN; from −∞ at the first tap), and indices[oy·ow + ox] (int64, may be NULL) its plane index
/// (planes of fewer than 2³¹ floats).
typedef void (*ck_max2x2_fn)(const float *src, long w, long oh, long ow, float *out, int64_t *indices);

/// Depthwise weight gradient over the same kind of source:
///   grad[t] += Σ_{j < count} g[j] · src[off[t] + j]
/// with g on the same grid (zero in dropped columns) and readable, zero, up to count rounded up to
/// VW; the sum runs in a fixed order that depends only on count and the ISA.
typedef void (*ck_window_dot_fn)(const float *src, const long *off, long ntaps, const float *g, long count,
                                 float *grad);

/// Max pooling over a prepared source (a stride-phase-split plane padded with −∞), with PyTorch's
/// argmax rule: starting from −∞ at index first[j], a strictly larger value or any NaN replaces
/// the running maximum (taps in t order). For grid positions j = y·pitch + x, tap t reads
/// src[off[t] + j] and has plane index base[j] + toff[t]; out[y·ow + x] and indices[y·ow + x]
/// (int64, may be NULL) are written for x < ow. `base` and `first` hold oh·pitch entries, readable
/// up to a multiple of 4·VW; src is read up to max(off) + oh·pitch + 4·VW floats.
typedef void (*ck_max_pool_fn)(const float *src, const long *off, const int32_t *toff, long ntaps,
                               const int32_t *base, const int32_t *first,
                               long oh, long pitch, long ow, float *out, int64_t *indices);

/// Winograd F(m×m, 3×3) weight transform (m = 4 or 2, α = m + 2) of `pairs` 3×3 kernels (w[9·p …]):
/// u[k·u_stride + p·pair_stride] = (G g Gᵀ)[k / α][k % α] for k < α² (a pair stride > 1 writes
/// straight into packed GEMM panels).
typedef void (*ck_winograd_weights_fn)(long m, const float *w, long pairs, float *u, long pair_stride, long u_stride);

/// Winograd F(m×m, 3×3) input transform (m = 4 or 2, α = m + 2) of one channel, from a source split
/// by phase of m in both axes (m² sub-planes of sub_plane floats, rows `pitch` apart; input
/// (m·y + r, m·x + c) is src[((r%m)·m + c%m)·sub_plane + (y + r/m)·pitch + x + c/m]):
/// v[k·v_stride + y·tiles_x + x] = (Bᵀ d B)[k / α][k % α] for the α×α patch d of tile (y, x).
/// Reads up to one vector past the end of each sub-plane row.
typedef void (*ck_winograd_input_fn)(long m, const float *src, long sub_plane, long pitch, long tiles_y, long tiles_x,
                                     float *v, long v_stride);

/// Winograd F(m×m, 3×3) output transform (m = 4 or 2, α = m + 2) of one channel: for tile (y, x) with
/// M[k] = mm[k·m_stride + y·tiles_x + x], out[(m·y + i)·ow + m·x + j] = bias + (Aᵀ M A)[i][j] for the
/// outputs inside oh × ow, then clamped to [bounds[0], bounds[1]] unless `bounds` is NULL (the fused
/// activation: v < lo ? lo : v, then v > hi ? hi : v; NaN stays NaN). Reads whole vectors: up to one
/// vector past the last tile of each row of mm.
typedef void (*ck_winograd_output_fn)(long m, const float *mm, long m_stride, long tiles_y, long tiles_x, float bias,
                                      const float *bounds, float *out, long oh, long ow);

/// Gathers kc rows of nr consecutive floats, row k from `src + off[k]`, into the contiguous
/// panel `dst` (row k at `dst + k·nr`): a B panel for `gemm_packed` with `ldb = nr`.
typedef void (*ck_gather_rows_fn)(long kc, long nr, const float *src, const long *off, float *dst);

/// The turned-around product with A read in place: positions are the rows, each row r a base
/// offset `row[r]` into `src`, and B is a panel of NR columns (`b[k·NR + j]`):
///   c[r·ldc + j] += Σ_{k < kc} src[row[r] + off[k]] · b[k·NR + j]     for r < mr ≤ MR, j < NR
/// (k in order, fused multiply-adds continuing from c).
typedef void (*ck_gemm_taps_fn)(long mr, long kc, const float *src, const long *row, const long *off, const float *b,
                                float *c, long ldc);

/// A row-major block to columns: out[j·os + i] = c[i·ldc + j] for i < rows, j < cols, then
/// clamped to [bounds[0], bounds[1]] unless `bounds` is NULL (as in winograd_output).
typedef void (*ck_transpose_out_fn)(const float *c, long ldc, long rows, long cols, float *out, long os,
                                    const float *bounds);

/// Copies an h × w plane into a rows × pitch one at row `top`, column `left` (either may be
/// negative or clip the plane): dst[i·pitch + j] = src[(i − top)·w + j − left] where
/// 0 ≤ i − top < h and 0 ≤ j − left < w, and `pad` everywhere else — unless `interior_only`, in
/// which case only the copied elements are written.
typedef void (*ck_pad_plane_fn)(const float *src, long h, long w, float *dst, long rows, long pitch, long top,
                                long left, float pad, int interior_only);

/// Rows r0 ..< r1 of the four column phases of row phase `py` of an h × w plane split by phase of 4
/// (Winograd's input split), sub-planes `sub_plane` apart, rows `pitch` apart:
/// dst[px·sub_plane + i·pitch + j] = src[(4i + py − top)·w + 4j + px − left] inside the plane, `pad`
/// everywhere else (`top`, `left` may be negative).
typedef void (*ck_split4_rows_fn)(const float *src, long h, long w, long py, long top, long left, float pad,
                                  float *dst, long sub_plane, long pitch, long r0, long r1);

/// The kernels of one instruction-set level and its register tile.
typedef struct ck_kernels {
    const char *name;   ///< "avx512", "avx2", "neon", "portable"
    int isa;            ///< a ck_isa value
    long mr;            ///< GEMM rows per tile (A rows)
    long nr;            ///< GEMM columns per tile (B columns), a multiple of vw
    long vw;            ///< floats per vector
    ck_gemm_fn gemm;
    ck_gemm_packed_fn gemm_packed;
    ck_gather_rows_fn gather_rows;
    ck_gemm_taps_fn gemm_taps;
    ck_transpose_out_fn transpose_out;
    ck_pad_plane_fn pad_plane;
    ck_split4_rows_fn split4_rows;
    ck_window_sum_fn window_sum;
    ck_depthwise3x3_fn depthwise3x3;
    ck_max3x3_fn max3x3;
    ck_max2x2_fn max2x2;
    ck_window_dot_fn window_dot;
    ck_max_pool_fn max_pool;
    ck_winograd_weights_fn winograd_weights;
    ck_winograd_input_fn winograd_input;
    ck_winograd_output_fn winograd_output;
} ck_kernels;

/// The best level this CPU supports (detected once).
int ck_best_isa(void);

/// The table for `isa`, or NULL if it is not compiled in or the CPU lacks it.
const ck_kernels *ck_kernels_for(int isa);

/// Floating-point control state of the calling thread.
typedef uint64_t ck_fp_state;

/// Sets flush-to-zero and denormals-are-zero on the calling thread; returns the previous state.
ck_fp_state ck_enter_flush_denormals(void);

/// Restores a state returned by ck_enter_flush_denormals.
void ck_restore_fp_state(ck_fp_state state);

/// A spin-wait hint (x86 `pause`, ARM `yield`).
void ck_cpu_relax(void);

/// Sequentially consistent atomics on a naturally aligned `long` (the worker pool's counters).
long ck_atomic_load(const long *p);
void ck_atomic_store(long *p, long value);
long ck_atomic_add(long *p, long delta);  ///< returns the new value
int ck_atomic_compare_exchange(long *p, long expected, long desired);  ///< 1 if swapped

#ifdef __cplusplus
}
#endif

#endif
