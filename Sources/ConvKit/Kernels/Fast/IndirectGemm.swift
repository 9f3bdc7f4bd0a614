import CConvKitKernels

/// One indirect-GEMM convolution problem: for every image `n` and group `g`,
///
///     C[m, j] = init[m] + Σ_{k < K} A[m, k] · src[n, g][bOffset[k] + j]
///
/// over grid positions `j = y·pitch + x` (`y < gridH`, `x < pitch`; columns `x ≥ validW` are
/// computed and dropped). `A` is given row-major per group and packed into k-major row-tile panels
/// (``packA(_:kernels:into:)``, cached per weight tensor by the callers). Results go to
/// `dst + n·dstImageStride + g·dstGroupStride + m·dstRowStride + dstOffset + y·dstY + x·dstX`.
///
/// Work is split over blocks of rows and column tiles (never over K), so the result of every
/// element is the same for any thread count.
struct IndirectGemm {
    /// Row tiles sharing a column tile from which its K block of B is first gathered into a contiguous
    /// panel (one aligned L1-resident block instead of `kc` scattered runs). Measured on one thread:
    /// 4–18 % faster for 3×3/1×1 layers with ≥ 64 output channels (11+ row tiles, most with stride
    /// 2); 7–14 % slower with 2–6 row tiles (32 channels, or 8 per group), where it is not amortised.
    static let gatherThreshold = 8
    var batch = 1
    var groups = 1
    var m = 0
    var k = 0
    /// `A` of group `g` starts at `a + g·aGroupStride`; rows are `lda` apart; columns contiguous.
    var aGroupStride = 0
    var lda = 0
    var bOffset: [Int] = []
    var srcImageStride = 0
    var srcGroupStride = 0
    var gridH = 0
    var pitch = 0
    var validW = 0
    var dstImageStride = 0
    var dstGroupStride = 0
    var dstRowStride = 0
    var dstOffset = 0
    var dstY = 0, dstX = 1
    /// The source is the caller's tensor (no slack after it): tiles running past the end of the
    /// last image's grid are packed instead of read in place.
    var sourceHasNoSlack = false

    /// Whether grid positions map one-to-one onto consecutive output elements.
    private var contiguous: Bool { pitch == validW && dstX == 1 && dstY == validW }

    /// K-block depth (256 taps with 16-wide tiles: measured 2–4 % better than 128 in isolation).
    static func blockDepth(k: Int, nr: Int) -> Int {
        guard k > 0 else { return 1 }
        let limit = max(32, 4096 / nr)
        let blocks = (k + limit - 1) / limit
        return (k + blocks - 1) / blocks
    }

    /// Rows (`mc`) and column tiles (`tileGroup`) per work item. An item reads its `mc × K` rows of A
    /// once and applies them to all its tiles, so tiles per item come first (up to 16, within an
    /// image); then A's rows are split until there are about four items per thread; last, groups of
    /// 12 or 8 tiles replace 16 where that splits the items clearly more evenly over the threads (17
    /// items on 2 threads: 34). Results do not depend on the blocking.
    static func blocking(m: Int, kc: Int, mr: Int, tiles: Int, units: Int) -> (mc: Int, tileGroup: Int) {
        let threads = Runtime.threadCount, target = 4 * threads
        let widest = max(1, min(16, tiles))
        let tileItems = units * ((tiles + widest - 1) / widest)
        let mcMax = max(mr, (32768 / max(kc, 1)) / mr * mr)      // an mc × kc block of A in ~128 KiB
        var mBlocks = max((m + mcMax - 1) / mcMax, (target + tileItems - 1) / tileItems)
        mBlocks = min(mBlocks, (m + mr - 1) / mr)
        let mc = max(1, min(m, ((m + mBlocks - 1) / mBlocks + mr - 1) / mr * mr))
        func balance(_ group: Int) -> Double {
            let items = units * ((m + mc - 1) / mc) * ((tiles + group - 1) / group)
            return Double(items) / Double((items + threads - 1) / threads * threads)
        }
        var tileGroup = widest, best = balance(widest)
        for candidate in [12, 8] where candidate < widest && balance(candidate) > best + 0.02 {
            tileGroup = candidate
            best = balance(candidate)
        }
        return (mc, tileGroup)
    }

    /// Runs the problem on the worker pool.
    ///
    /// Work items are (image, group, block of `mc` rows, group of column tiles); within an item the
    /// K blocks are outermost, so the `mc × kc` block of A stays in L2 while it meets every tile of
    /// the item. Each element's sum is one chain of fused multiply-adds in K order whatever the
    /// blocking (the kernel continues from C), so the blocking never changes a result.
    /// Rows of A per work item for these kernels (the packed-panel layout depends on it).
    func rowBlock(_ kernels: KernelTable) -> Int {
        let tilesPerImage = (gridH * pitch + kernels.nr - 1) / kernels.nr
        return Self.blocking(m: m, kc: Self.blockDepth(k: k, nr: kernels.nr), mr: kernels.mr, tiles: tilesPerImage,
                             units: batch * groups).mc
    }

    /// Packs A (`a`, as described above) into the panels `run(packedA:…)` reads.
    func packA(_ a: UnsafePointer<Float>, kernels: KernelTable, into packed: UnsafeMutablePointer<Float>) {
        packRowPanels(a, lda: lda, aStride: aGroupStride, entries: groups, m: m, k: k, mc: rowBlock(kernels),
                      kernels: kernels, into: packed)
    }

    /// Runs the problem, packing A first.
    func run(a: UnsafePointer<Float>, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
             bias: UnsafePointer<Float>?, kernels: KernelTable) {
        BufferCache.shared.with(max(groups * m * k, 1)) { packed in
            packA(a, kernels: kernels, into: packed)
            run(packedA: packed, src: src, dst: dst, bias: bias, kernels: kernels)
        }
    }

    /// Runs the problem with A already packed by ``packA(_:kernels:into:)`` for the same kernels
    /// and thread count.
    func run(packedA: UnsafePointer<Float>, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
             bias: UnsafePointer<Float>?, kernels: KernelTable, activation: FusedActivation? = nil) {
        guard m > 0, gridH > 0, pitch > 0, validW > 0, batch > 0, groups > 0 else { return }
        let nr = kernels.nr, mr = kernels.mr
        let positions = gridH * pitch
        let tilesPerImage = (positions + nr - 1) / nr
        let kc = Self.blockDepth(k: k, nr: nr)
        let blocking = Self.blocking(m: m, kc: kc, mr: mr, tiles: tilesPerImage, units: batch * groups)
        let mc = blocking.mc, mBlocks = (m + mc - 1) / mc
        let perImage = batch * groups * mBlocks
        let tileGroup = blocking.tileGroup, tileGroups = (tilesPerImage + tileGroup - 1) / tileGroup
        let gemmPacked = kernels.gemmPacked, gatherRows = kernels.gatherRows
        let problem = self
        let direct = contiguous
        bOffset.withUnsafeBufferPointer { bOffset in FusedActivation.withBounds(activation) { bounds in
            let offsets = bOffset.baseAddress!
            parallelFor(perImage * tileGroups) { range, scratch in
                scratch.reset()
                let packs = problem.sourceHasNoSlack
                let blockCount = mc * tileGroup * nr
                scratch.reserve(floats: blockCount + (packs ? problem.k * nr : 0) + kc * nr)
                let block = scratch.floats(blockCount)
                let panel = packs ? scratch.floats(problem.k * nr) : block
                let bPanel = scratch.floats(kc * nr)
                for item in range {
                    let tg = item % tileGroups
                    var rest = item / tileGroups
                    let mb = rest % mBlocks; rest /= mBlocks
                    let g = rest % problem.groups, n = rest / problem.groups
                    let r0 = mb * mc, rows = min(mc, problem.m - r0)
                    let t0 = tg * tileGroup, tiles = min(tileGroup, tilesPerImage - t0)
                    let j0 = t0 * nr
                    let count = min(tiles * nr, positions - j0)     // valid positions of the item
                    let source = src + n * problem.srcImageStride + g * problem.srcGroupStride
                    let out = dst + n * problem.dstImageStride + g * problem.dstGroupStride + problem.dstOffset
                    let aGroup = packedA + (g * problem.m + r0) * problem.k
                    let biasRows = bias.map { $0 + g * problem.m + r0 }
                    // C straight into the output when every tile is whole and the grid is the output.
                    let inPlace = direct && count == tiles * nr
                    let c = inPlace ? out + r0 * problem.dstRowStride + j0 : block
                    let ldc = inPlace ? problem.dstRowStride : tileGroup * nr
                    // A partial last tile of a source without slack is packed (zero-padded).
                    let partial = count < tiles * nr
                    let packed = packs && partial
                    if packed {
                        let jt = j0 + (tiles - 1) * nr, valid = positions - jt
                        for kk in 0..<problem.k {
                            let s = source + offsets[kk] + jt, d = panel + kk * nr
                            for j in 0..<valid { d[j] = s[j] }
                            for j in valid..<nr { d[j] = 0 }
                        }
                    }
                    if problem.k == 0 {
                        for r in 0..<rows {
                            for j in 0..<tiles * nr { c[r * ldc + j] = biasRows?[r] ?? 0 }
                            activation?.apply(c + r * ldc, count: tiles * nr)
                        }
                    }
                    var k0 = 0
                    while k0 < problem.k {
                        let kcb = min(kc, problem.k - k0)
                        let accumulate: Int32 = k0 == 0 ? 0 : 1
                        // The fused activation in the micro-kernel's registers, after the last K block.
                        let clamp = k0 + kcb == problem.k ? bounds : nil
                        for t in 0..<tiles {
                            let ct = c + t * nr
                            let usePanel = packed && t == tiles - 1
                            // Row tiles of (nearly) equal height (8 rows as 4 + 4, not 6 + 2), as packed.
                            let rowTiles = (rows + mr - 1) / mr
                            let gather = !usePanel && rowTiles >= Self.gatherThreshold
                            if gather {
                                gatherRows(kcb, nr, source + j0 + t * nr, offsets + k0, bPanel)
                            }
                            for tile in 0..<rowTiles {
                                let (r, mrows) = rowTile(tile, of: rowTiles, rows: rows)
                                let aTile = aGroup + r * problem.k + k0 * mrows
                                let rowBias = k0 == 0 ? biasRows.map { $0 + r } : nil
                                if usePanel {
                                    gemmPacked(mrows, nr, kcb, aTile, panel + k0 * nr, nr, nil, ct + r * ldc, ldc, 1,
                                               rowBias, accumulate, clamp)
                                } else if gather {
                                    gemmPacked(mrows, nr, kcb, aTile, bPanel, nr, nil, ct + r * ldc, ldc, 1,
                                               rowBias, accumulate, clamp)
                                } else {
                                    gemmPacked(mrows, nr, kcb, aTile, source + j0 + t * nr, 0, offsets + k0, ct + r * ldc, ldc, 1,
                                               rowBias, accumulate, clamp)
                                }
                            }
                        }
                        k0 += kcb
                    }
                    if !inPlace {
                        // Scatter the valid positions, one grid row segment at a time.
                        var y = j0 / problem.pitch, x = j0 % problem.pitch, j = 0
                        let dx = problem.dstX
                        while j < count {
                            let run = min(count - j, problem.pitch - x)
                            let valid = min(run, max(problem.validW - x, 0))
                            if valid > 0 {
                                let o = out + r0 * problem.dstRowStride + y * problem.dstY + x * dx
                                for r in 0..<rows {
                                    let from = block + r * ldc + j, to = o + r * problem.dstRowStride
                                    if dx == 1 {
                                        for i in 0..<valid { to[i] = from[i] }
                                    } else {
                                        for i in 0..<valid { to[i * dx] = from[i] }
                                    }
                                }
                            }
                            j += run
                            x = 0
                            y += 1
                        }
                    }
                }
            }
        } }
    }
}

/// Rows of the `index`-th of `tiles` nearly equal row tiles of `rows` rows: (first row, count).
@inline(__always)
func rowTile(_ index: Int, of tiles: Int, rows: Int) -> (Int, Int) {
    let base = rows / tiles, extra = rows % tiles
    return (index * base + min(index, extra), base + (index < extra ? 1 : 0))
}

/// Packs `entries` row-major matrices (`m × k`, rows `lda` apart, entry `e` at `a + e·aStride`) into
/// k-major panels for ``KernelTable/gemmPacked``: rows are cut into blocks of `mc`, each block into
/// `⌈rows/mr⌉` nearly equal row tiles; the tile starting at row R with h rows holds
/// `A[R + i, k]` at `R·k + k·h + i` (entry `e` at `e·m·k`). In parallel over tiles.
func packRowPanels(_ a: UnsafePointer<Float>, lda: Int, aStride: Int, entries: Int, m: Int, k: Int,
                   mc: Int, kernels: KernelTable, into packed: UnsafeMutablePointer<Float>) {
    let transpose = kernels.transposeOut
    forEachRowPanel(entries: entries, m: m, mc: mc, mr: kernels.mr, grain: 4) { e, row, height, _ in
        // dst[kk·height + i] = src[i·lda + kk], in 4 × 4 blocks.
        transpose(a + e * aStride + row * lda, lda, height, k, packed + e * m * k + row * k, height, nil)
    }
}

/// Calls `body(entry, firstRow, height, scratch)` for every row tile of the packed layout of
/// ``packRowPanels(_:lda:aStride:entries:m:k:mc:kernels:into:)`` (blocks of `mc` rows, each cut into
/// nearly equal tiles of at most `mr`), in parallel: the one walk every packer of A panels shares.
func forEachRowPanel(entries: Int, m: Int, mc: Int, mr: Int, grain: Int, _ body: (Int, Int, Int, Scratch) -> Void) {
    let mBlocks = (m + mc - 1) / mc
    let tilesPerBlock = (mc + mr - 1) / mr
    parallelFor(entries * mBlocks * tilesPerBlock, grain: grain) { range, scratch in
        for item in range {
            let tile = item % tilesPerBlock, rest = item / tilesPerBlock
            let mb = rest % mBlocks, e = rest / mBlocks
            let r0 = mb * mc, rows = min(mc, m - r0)
            let tiles = (rows + mr - 1) / mr
            guard tile < tiles else { continue }
            let (first, height) = rowTile(tile, of: tiles, rows: rows)
            body(e, r0 + first, height, scratch)
        }
    }
}
