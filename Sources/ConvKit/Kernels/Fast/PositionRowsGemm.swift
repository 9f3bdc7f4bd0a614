import CConvKitKernels

/// The forward correlation of an ``IndirectGemm`` problem (one group) turned around: output
/// positions are the GEMM's rows and output channels its columns,
///
///     Cᵀ[p, c_out] = bias[c_out] + Σ_k X[p, k] · W[c_out, k]      (p over every image's positions)
///
/// For small feature maps (ResNet's 7×7 and 14×14 stages) the usual orientation computes 16-wide
/// column tiles over a padded position grid and keeps as little as 77 % of them (49 positions of a
/// 7 × 9 grid in 64 columns); here the positions are packed densely in MR-row tiles (49 in 54 rows)
/// and the channels fill whole 16-wide tiles. The rows of X are read in place (each position a base
/// offset into the source planes, each tap an offset from it); Wᵀ is packed into NR-wide panels
/// once per weight tensor. Cᵀ goes through a scratch buffer and is transposed into NCHW (with the fused
/// activation, if any).
///
/// Each element's sum is one chain of fused multiply-adds from the bias in tap order, as in
/// ``IndirectGemm``: the two orientations give bitwise-identical results, for any thread count.
struct PositionRowsGemm {
    var problem: IndirectGemm
    /// Where the taps of a position start: position (y, x) of image n at
    /// `n·srcImageStride + y·rowStep + x·columnStep` of the source. By default the problem's grid
    /// (`pitch`, 1); a strided correlation read from the unsplit planes steps by stride × pitch and
    /// by the stride.
    var rowStep: Int
    var columnStep = 1
    /// Where a strided or padded correlation's rows are staged, if they are: `src` is then the
    /// unpadded input (`srcImageStride` apart) and the problem's tap offsets are into this zero-padded
    /// layout of it. Each item copies the padded rows its positions read that its thread has not
    /// copied yet into the thread's scratch, at their places in the layout (``Scratch/stage(image:rows:)``),
    /// so that a thread reads the input rows of its own positions only: the rows it wrote itself when
    /// the layer before split its work by rows too (a shared copy filled plane by plane made each
    /// thread read the other's half, and wait for the copy).
    var staging: Staging?

    /// A zero-padded layout of the input (one phase) and where each output row's window lies in it.
    struct Staging {
        let planes: PhaseSplitSource
        /// Padded rows between consecutive output rows' windows (the stride), and in one window.
        let rowStride: Int, windowRows: Int
        /// Floats of one unpadded input plane.
        let plane: Int
    }

    init(problem: IndirectGemm) {
        self.problem = problem
        rowStep = problem.pitch
    }

    /// Positions of all images (the rows).
    private var positions: Int { problem.batch * problem.gridH * problem.validW }

    /// Whether the turned-around GEMM wastes clearly less of its register tiles than
    /// ``IndirectGemm`` on this one-group problem: dense positions in MR-row tiles and channels in
    /// NR-wide tiles, against grid positions (with the columns past the output row) in NR-wide
    /// tiles and channels in MR-row tiles. "Clearly" (by ``margin``) where the usual orientation
    /// writes its tiles in place, or where K is short (< 64 taps), so that the turned one's
    /// transposition weighs more than the usual one's copies; where the usual grid has columns past
    /// the output row (it scatters its tiles through a buffer) and K ≥ 64, no less waste is enough
    /// (measured, 2 threads: ResNet's 7×7 stride-2 stem, 147 taps, 1.25 → 1.16 ms; 3×3 64 at 56²
    /// forced to GEMM 1.46 → 1.28 ms; MobileNet's 3×3 stride-2 stem, 27 taps, 0.163 → 0.186 ms, so
    /// not turned).
    static func isWorthwhile(_ problem: IndirectGemm, kernels: KernelTable) -> Bool {
        let mr = kernels.mr, nr = kernels.nr
        guard problem.groups == 1, problem.m > 0, problem.k > 0, problem.dstOffset == 0, problem.dstX == 1,
              problem.dstY == problem.validW, problem.dstRowStride == problem.gridH * problem.validW else { return false }
        let perImage = problem.gridH * problem.validW
        guard perImage > 0 else { return false }
        func used(_ count: Int, _ tile: Int) -> Double { Double(count) / Double((count + tile - 1) / tile * tile) }
        let grid = problem.gridH * problem.pitch
        let usual = Double(perImage) / Double(grid) * used(grid, nr) * used(problem.m, mr)
        let turned = used(perImage, mr) * used(problem.m, nr)
        return turned >= usual + (problem.pitch == problem.validW || problem.k < 64 ? margin : 0)
    }

    /// How much more of the register tiles the turned GEMM must use to be chosen over an
    /// in-place usual orientation (or one with short K).
    static let margin = 0.05

    /// Floats of the packed weights.
    func packedWeightCount(_ kernels: KernelTable) -> Int {
        (problem.m + kernels.nr - 1) / kernels.nr * kernels.nr * problem.k
    }

    /// Packs Wᵀ (`a` of the problem: `[m, k]`, rows `lda` apart) into NR-wide panels: panel `t` holds
    /// `W[t·NR + c, k]` at `t·k·NR + k·NR + c` (zero for channels past `m`), one transposition per
    /// panel.
    func packWeights(_ w: UnsafePointer<Float>, kernels: KernelTable, into packed: UnsafeMutablePointer<Float>) {
        let nr = kernels.nr, m = problem.m, k = problem.k, lda = problem.lda, transpose = kernels.transposeOut
        parallelFor((m + nr - 1) / nr) { range, _ in
            for tile in range {
                let panel = packed + tile * k * nr, channels = min(nr, m - tile * nr)
                if channels < nr { fillFloats(panel, 0, k * nr) }
                transpose(w + tile * nr * lda, lda, channels, k, panel, nr, nil)
            }
        }
    }

    /// Runs the problem with Wᵀ packed by ``packWeights(_:kernels:into:)``; `dst` is NCHW.
    ///
    /// Work items are (image, block of ≤ 64 rows, group of column tiles); an item's Cᵀ block
    /// lives in scratch from the bias to its transposition into NCHW (with the fused activation). Within
    /// an item the K blocks are outermost, so the block's taps of A stay in L1 for every column tile.
    func run(packedWeights: UnsafePointer<Float>, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
             bias: UnsafePointer<Float>?, activation: FusedActivation?, kernels: KernelTable) {
        let p = problem, rowStep = rowStep, columnStep = columnStep
        let mr = kernels.mr, nr = kernels.nr
        let perImage = p.gridH * p.validW
        guard p.batch > 0, perImage > 0 else { return }
        let tilesPerImage = (perImage + mr - 1) / mr
        // Items: (image, block of ≤ 64 rows) × groups of column tiles, about four per thread. Row
        // blocks of ≤ 64 rows, not 128: their taps of A stay in L1 over K blocks of 128 taps (below),
        // and more items balance better (measured, 2 threads: 3×3 128 stride 2 at 56² 1.25–1.29 →
        // 1.20–1.22 ms, 128→256 stride 2 at 28² 0.72–0.74 → 0.67–0.70 ms, 1×1 256→512 stride 2
        // 0.39–0.41 → 0.37–0.39 ms; minima of 5–8 alternating rounds).
        let columnTiles = (p.m + nr - 1) / nr, threads = Runtime.threadCount
        let tilesPerBlock = max(1, 64 / mr)
        func columnGroups(_ blocks: Int) -> Int {
            min(columnTiles, max(1, (4 * threads + p.batch * blocks - 1) / (p.batch * blocks)))
        }
        // One or two more blocks if that gives every thread as many items (9 items on 2 threads
        // leave one thread idle a ninth of the time; 10 do not). Not more than needed: each row
        // block reads all of its column tiles' weights.
        var blocksPerImage = (tilesPerImage + tilesPerBlock - 1) / tilesPerBlock
        for extra in 0..<threads where blocksPerImage + extra <= tilesPerImage
            && p.batch * (blocksPerImage + extra) * columnGroups(blocksPerImage + extra) % threads == 0 {
            blocksPerImage += extra
            break
        }
        let rowItems = p.batch * blocksPerImage, columnGroups = columnGroups(blocksPerImage)
        let perGroup = (columnTiles + columnGroups - 1) / columnGroups
        // K blocks of ≤ 4096 / NR taps (128 with AVX-512's 32-wide tiles, 256 with 16): a block's
        // taps of the item's ≤ 64 rows (each tap a run of a different plane row) stay in L1 while
        // every column tile passes over them, in few, long kernel calls (measured, 1 thread, against
        // blocks of 64 taps: 512→512 at 7×7 4.24 → 3.94 ms, 256→512 stride 2 at 14×14 2.29 → 1.93 ms,
        // LeNet conv2 3.98 → 3.57 ms).
        // Blocks of nearly equal rows, each in nearly equal row tiles: a block of whole image-wide
        // tiles left the threads up to a tile apart (ResNet's 14×14 outputs: 25 tiles, 12 against 13
        // on 2 threads, the idle thread spinning 6 % of the time).
        let rowsPerItem = (perImage + blocksPerImage - 1) / blocksPerImage
        let kc = IndirectGemm.blockDepth(k: p.k, nr: nr)
        let gemmTaps = kernels.gemmTaps, transposeOut = kernels.transposeOut
        // The bias over whole column tiles (zero past m): each row of Cᵀ starts as a copy of it.
        var biasRow = [Float](repeating: 0, count: columnTiles * nr)
        if let bias { for j in 0..<p.m { biasRow[j] = bias[j] } }
        biasRow.withUnsafeBufferPointer { biasRow in p.bOffset.withUnsafeBufferPointer { offsets in
        FusedActivation.withBounds(activation) { bounds in
            let offsets = offsets.baseAddress!, biasRow = biasRow.baseAddress!
            let staging = staging, stagedCount = staging?.planes.imageStride ?? 0
            parallelFor(rowItems * columnGroups) { range, scratch in
                scratch.reset()
                scratch.reserve(floats: rowsPerItem * perGroup * nr + stagedCount)
                let c = scratch.floats(rowsPerItem * perGroup * nr)
                let staged = staging.map { _ in scratch.floats(stagedCount) }
                withUnsafeTemporaryAllocation(of: Int.self, capacity: rowsPerItem) { rowOffsets in
                    for item in range {
                        let cg = item % columnGroups, rowItem = item / columnGroups
                        let n = rowItem / blocksPerImage, block = rowItem % blocksPerImage
                        let q0 = block * perImage / blocksPerImage, q1 = (block + 1) * perImage / blocksPerImage
                        let tiles = (q1 - q0 + mr - 1) / mr
                        let ct0 = cg * perGroup, ct1 = min(columnTiles, ct0 + perGroup)
                        guard ct0 < ct1 else { continue }
                        let ldc = (ct1 - ct0) * nr, c0 = ct0 * nr, channels = min(p.m, ct1 * nr) - c0
                        var source = n * p.srcImageStride, from = src
                        if let staging, let staged {
                            // The padded rows of output rows q0 / W … (q1 − 1) / W.
                            let first = q0 / p.validW * staging.rowStride
                            let rows = first..<min(staging.planes.rows, (q1 - 1) / p.validW * staging.rowStride + staging.windowRows)
                            let missing = scratch.stage(image: n, rows: rows)
                            for ch in 0..<staging.planes.channels where !missing.isEmpty {
                                staging.planes.fillChannel(staged + ch * staging.planes.channelStride,
                                                           from: src + source + ch * staging.plane, rows: missing)
                            }
                            source = 0
                            from = UnsafePointer(staged)
                        }
                        for q in q0..<q1 {
                            rowOffsets[q - q0] = source + (q / p.validW) * rowStep + q % p.validW * columnStep
                            copyFloats(biasRow + c0, c + (q - q0) * ldc, ldc)
                        }
                        var k0 = 0
                        while k0 < p.k {
                            let kcb = min(kc, p.k - k0)
                            for ct in ct0..<ct1 {
                                let panel = packedWeights + ct * p.k * nr + k0 * nr
                                for tile in 0..<tiles {
                                    let (first, height) = rowTile(tile, of: tiles, rows: q1 - q0)
                                    gemmTaps(height, kcb, from, rowOffsets.baseAddress! + first, offsets + k0, panel,
                                             c + first * ldc + (ct - ct0) * nr, ldc)
                                }
                            }
                            k0 += kcb
                        }
                        transposeOut(c, ldc, q1 - q0, channels, dst + n * p.dstImageStride + c0 * p.dstRowStride + q0,
                                     p.dstRowStride, bounds)
                    }
                }
            }
        } } }
    }
}
