import CConvKitKernels

/// The forward correlation of an ``IndirectGemm`` problem (one group) turned around: output
/// positions are the GEMM's rows and output channels its columns,
///
///     Cᵀ[p, c_out] = bias[c_out] + Σ_k X[p, k] · W[c_out, k]      (p over every image's positions)
///
/// For small feature maps (ResNet's 7×7 and 14×14 stages) the usual orientation computes 16-wide
/// column tiles over a padded position grid and keeps as little as 77 % of them (49 positions of a
/// 7 × 9 grid in 64 columns); here the positions are packed densely in MR-row tiles (49 in 54 rows)
/// and the channels fill whole 16-wide tiles. The rows of X (each position's taps, read through the
/// tap offsets of the phase-split source) are packed per call; Wᵀ is packed into NR-wide panels once
/// per weight tensor. Cᵀ goes through a scratch buffer and is transposed into NCHW (with the fused
/// ReLU, if any).
///
/// Each element's sum is one chain of fused multiply-adds from the bias in tap order, as in
/// ``IndirectGemm``: the two orientations give bitwise-identical results, for any thread count.
struct PositionRowsGemm {
    let problem: IndirectGemm

    /// Positions of all images (the rows).
    private var positions: Int { problem.batch * problem.gridH * problem.validW }

    /// Whether the turned-around GEMM wastes clearly less of its register tiles than
    /// ``IndirectGemm`` on this one-group problem with a small map (at most 1,024 positions) and at
    /// least 64 output channels. (Measured, 2 threads: 512→512 3×3 on 7×7 15 % faster, 128→256
    /// 3×3 stride 2 to 14×14 7 % faster.)
    static func isWorthwhile(_ problem: IndirectGemm, kernels: KernelTable) -> Bool {
        let mr = kernels.mr, nr = kernels.nr
        guard problem.groups == 1, problem.m >= 64, problem.k > 0, problem.dstOffset == 0, problem.dstX == 1,
              problem.dstY == problem.validW, problem.dstRowStride == problem.gridH * problem.validW else { return false }
        let perImage = problem.gridH * problem.validW, rows = problem.batch * perImage
        guard rows > 0, rows <= 1024 else { return false }
        let grid = problem.gridH * problem.pitch
        let usual = Double(perImage) / Double((grid + nr - 1) / nr * nr)
        let turned = Double(rows) / Double((rows + mr - 1) / mr * mr)
            * Double(problem.m) / Double((problem.m + nr - 1) / nr * nr)
        return turned >= usual + 0.1
    }

    /// Floats of the packed weights.
    func packedWeightCount(_ kernels: KernelTable) -> Int {
        (problem.m + kernels.nr - 1) / kernels.nr * kernels.nr * problem.k
    }

    /// Packs Wᵀ (`a` of the problem: `[m, k]`, rows `lda` apart) into NR-wide panels: panel `t` holds
    /// `W[t·NR + c, k]` at `t·k·NR + k·NR + c` (zero for channels past `m`).
    func packWeights(_ w: UnsafePointer<Float>, kernels: KernelTable, into packed: UnsafeMutablePointer<Float>) {
        let nr = kernels.nr, m = problem.m, k = problem.k, lda = problem.lda
        parallelFor((m + nr - 1) / nr) { range, _ in
            for tile in range {
                let panel = packed + tile * k * nr
                for c in 0..<nr {
                    let row = tile * nr + c
                    if row < m {
                        for kk in 0..<k { panel[kk * nr + c] = w[row * lda + kk] }
                    } else {
                        for kk in 0..<k { panel[kk * nr + c] = 0 }
                    }
                }
            }
        }
    }

    /// Runs the problem with Wᵀ packed by ``packWeights(_:kernels:into:)``; `dst` is NCHW.
    func run(packedWeights: UnsafePointer<Float>, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
             bias: UnsafePointer<Float>?, relu: Bool, kernels: KernelTable) {
        let p = problem
        let mr = kernels.mr, nr = kernels.nr
        let rows = positions, perImage = p.gridH * p.validW
        guard rows > 0 else { return }
        let rowTiles = (rows + mr - 1) / mr
        let columnTiles = (p.m + nr - 1) / nr, ldc = columnTiles * nr
        let kc = IndirectGemm.blockDepth(k: p.k, nr: nr)
        // Items: blocks of ≤ 16 row tiles × groups of column tiles, about four per thread.
        let rowBlock = min(rowTiles, 16), rowBlocks = (rowTiles + rowBlock - 1) / rowBlock
        let columnGroups = min(columnTiles, max(1, (4 * Runtime.threadCount + rowBlocks - 1) / rowBlocks))
        let perGroup = (columnTiles + columnGroups - 1) / columnGroups
        let gemmPacked = kernels.gemmPacked

        BufferCache.shared.with(rows * p.k + rows * ldc) { scratch in
            let a = scratch, c = scratch + rows * p.k
            p.bOffset.withUnsafeBufferPointer { offsets in
                let offsets = offsets.baseAddress!
                // X's rows, in the k-major MR-row tiles of ``packRowPanels``: tile at row R with h
                // rows holds X[R + i, k] at R·k + k·h + i.
                parallelFor(rowTiles) { range, _ in
                    var sources = [Int](repeating: 0, count: mr)
                    for tile in range {
                        let (first, height) = rowTile(tile, of: rowTiles, rows: rows)
                        for i in 0..<height {
                            let q = first + i, n = q / perImage, r = q % perImage
                            sources[i] = n * p.srcImageStride + (r / p.validW) * p.pitch + r % p.validW
                        }
                        let out = a + first * p.k
                        for kk in 0..<p.k {
                            let base = src + offsets[kk]
                            for i in 0..<height { out[kk * height + i] = base[sources[i]] }
                        }
                    }
                }
            }
            // Cᵀ starts at the bias; every K block then continues each element's chain.
            parallelFor(rows, grain: 16) { range, _ in
                for q in range {
                    let row = c + q * ldc
                    for j in 0..<ldc { row[j] = j < p.m ? bias?[j] ?? 0 : 0 }
                }
            }
            parallelFor(rowBlocks * columnGroups) { range, _ in
                for item in range {
                    let rb = item / columnGroups, cg = item % columnGroups
                    let t0 = rb * rowBlock, t1 = min(rowTiles, t0 + rowBlock)
                    let c0 = cg * perGroup, c1 = min(columnTiles, c0 + perGroup)
                    var k0 = 0
                    while k0 < p.k {
                        let kcb = min(kc, p.k - k0)
                        for ct in c0..<c1 {
                            let panel = packedWeights + ct * p.k * nr + k0 * nr
                            for tile in t0..<t1 {
                                let (first, height) = rowTile(tile, of: rowTiles, rows: rows)
                                gemmPacked(height, nr, kcb, a + first * p.k + k0 * height, panel, nr, nil,
                                           c + first * ldc + ct * nr, ldc, 1, nil, 1)
                            }
                        }
                        k0 += kcb
                    }
                }
            }
            // Cᵀ → NCHW.
            parallelFor(p.batch * p.m) { range, _ in
                for item in range {
                    let n = item / p.m, channel = item % p.m
                    let out = dst + n * p.dstImageStride + channel * p.dstRowStride
                    let column = c + n * perImage * ldc + channel
                    for r in 0..<perImage {
                        let v = column[r * ldc]
                        out[r] = relu && v < 0 ? 0 : v
                    }
                }
            }
        }
    }
}
