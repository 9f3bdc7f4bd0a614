import CConvKitKernels

/// 3×3, stride-1, undilated correlation by Winograd's minimal filtering F(m×m, 3×3): each m×m
/// output tile costs α² = (m + 2)² multiplies per (input, output) channel pair instead of 9m².
/// F(4×4, 3×3) (36 instead of 144) serves most maps; F(2×2, 3×3) (16 instead of 36) the small
/// ones where F(4×4)'s few tiles would mostly be GEMM padding (``tileSize(for:)``: ResNet's 7×7 maps
/// take 16 tiles of 2×2, where 4×4 tiles are 4, padded to a 16-wide GEMM tile).
///
/// 1. `U[k][c_out][c_in] = (G g Gᵀ)[k]` (α² transformed weights per pair, cached).
/// 2. `V[k][c_in][tile] = (Bᵀ d Bᵀ)[k]` over α×α input patches. Each channel is first split by phase
///    of m (zero-padded), so the patches of consecutive tiles are contiguous runs (vectors over tiles).
/// 3. α² GEMMs `M[k] = U[k] · V[k]` with the GEMM micro-kernel.
/// 4. `y[tile] = Aᵀ M A + bias`.
///
/// Layers whose tiles V and M would take ≥ 2 MiB run steps 2–4 per block of tile rows (and of
/// output channels) in each thread's cache instead of over the whole layer (``Blocking``).
///
/// A dilated 3×3 correlation (dilation d, padding a multiple of d per axis) is d_H·d_W undilated
/// ones: output rows `a + d·i` read only input rows `a + d·u`, so each phase (a, b) of the input is
/// gathered into an image of its own, the phases run as one batch, and the outputs are scattered
/// back (DeepLab's atrous 3×3 layers: 2.7× fewer multiplies than the direct sum).
///
/// Forward correlations only: the forward pass, and the input gradient of layers with many tiles
/// as the correlation of the flipped weights (weight gradients use the GEMM paths). Its rounding differs from direct summation; the
/// planner uses it only where the error stays within 2·10⁻⁴ of the reference (measured by the
/// tests on the benchmark layers' channel counts).
struct WinogradConvolution {
    let shape: ConvShape2D
    /// The output tile's side m (4 or 2).
    let tile: Int
    /// The input patch's side α = m + 2.
    var alpha: Int { tile + 2 }
    /// Transformed entries per tile (and GEMMs): α².
    var entries: Int { alpha * alpha }

    /// F(`tile`×`tile`, 3×3) for `shape`; by default the tile size ``tileSize(for:)`` picks.
    init(shape: ConvShape2D, tile: Int? = nil) {
        self.shape = shape
        self.tile = tile ?? Self.phaseShape(shape).map(Self.tileSize(for:)) ?? 4
    }

    static func applies(to s: ConvShape2D) -> Bool { phaseShape(s) != nil }

    /// The undilated correlation that a dilated one runs as, over its `d_H·d_W` input phases as
    /// images (itself when undilated), or nil where Winograd does not apply.
    static func phaseShape(_ s: ConvShape2D) -> ConvShape2D? {
        guard s.kH == 3, s.kW == 3, s.strideH == 1, s.strideW == 1, s.groups == 1, s.dilationH >= 1, s.dilationW >= 1,
              s.padTop % s.dilationH == 0, s.padLeft % s.dilationW == 0 else { return nil }
        let dh = s.dilationH, dw = s.dilationW
        if dh == 1 && dw == 1 { return s }
        return ConvShape2D(batch: s.batch * dh * dw, inChannels: s.inChannels, outChannels: s.outChannels, groups: 1,
                           inH: (s.inH + dh - 1) / dh, inW: (s.inW + dw - 1) / dw,
                           outH: (s.outH + dh - 1) / dh, outW: (s.outW + dw - 1) / dw, kH: 3, kW: 3, strideH: 1, strideW: 1,
                           dilationH: 1, dilationW: 1, padTop: s.padTop / dh, padLeft: s.padLeft / dw)
    }

    /// The GEMMs' multiplies per (input, output) channel pair of F(`m`×`m`, 3×3) on the undilated
    /// `p`, its tiles padded to whole 16-wide GEMM column tiles.
    private static func multiplies(_ p: ConvShape2D, tile m: Int) -> Int {
        let tiles = p.batch * ((p.outH + m - 1) / m) * ((p.outW + m - 1) / m)
        return (m + 2) * (m + 2) * ((tiles + 15) / 16 * 16)
    }

    /// The output tile side for the undilated `p`: 2 where F(2×2, 3×3)'s GEMMs do fewer multiplies
    /// than F(4×4, 3×3)'s once the tiles are padded to whole 16-wide GEMM columns (maps of at most
    /// 8×8 at batch 1: 7×7 takes 16 × 16 against 36 × 16), else 4.
    static func tileSize(for p: ConvShape2D) -> Int {
        multiplies(p, tile: 2) < multiplies(p, tile: 4) ? 2 : 4
    }

    /// Whether the planner picks it. F(4×4, 3×3): its 36 GEMMs must do at most half the multiplies
    /// of the direct convolution once the tiles are padded to whole GEMM columns (16), and either the
    /// image has enough 4×4 tiles (≥ 36, ≥ 80 % of their outputs used) to amortise the per-plane
    /// transforms, or both channel counts are ≥ 128, so the GEMMs dwarf the transforms. Measured on
    /// the benchmark suite (1.3–2.2× over the GEMM path): 56×56 and 112×112 layers, and 14×14 with
    /// 256 channels (1.9×); 11×11 outputs with 32→64 channels lose 3× (transforms of tiny planes
    /// dominate). F(2×2, 3×3) (small maps) saves at most 2.25×: it needs ≥ 1.5× fewer multiplies
    /// and both channel counts ≥ 128 (ResNet-18's 7×7×512: 1.72×).
    /// `weightsReused: false` (weights transformed on every call: the input gradient's flipped
    /// weights) drops the channel-count case: there the weight transform is not amortised (the
    /// 14×14×256 training step was 1.4× slower with it).
    static func isWorthwhile(_ s: ConvShape2D, weightsReused: Bool = true) -> Bool {
        guard let p = phaseShape(s), s.inChannels >= 16, s.outChannels >= 16 else { return false }
        let m = tileSize(for: p)
        let saving = Double(9 * s.outH * s.outW * s.batch) / Double(max(multiplies(p, tile: m), 1))
        let manyChannels = weightsReused && min(s.inChannels, s.outChannels) >= 128
        if m == 2 { return saving >= 1.5 && manyChannels }
        let tilesPerImage = ((p.outH + 3) / 4) * ((p.outW + 3) / 4)
        let coverage = Double(p.outH * p.outW) / Double(16 * tilesPerImage)
        let manyTiles = tilesPerImage >= 36 && coverage >= 0.8
        return saving >= 2 && (manyTiles || manyChannels)
    }

    func forward(input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output y: UnsafeMutablePointer<Float>, kernels: KernelTable, weightStorage: [Float]? = nil,
                 activation: FusedActivation? = nil) {
        if shape.dilationH > 1 || shape.dilationW > 1, let phases = Self.phaseShape(shape) {
            forwardByPhases(phases, input: x, weight: w, bias: bias, output: y, kernels: kernels, weightStorage: weightStorage,
                            activation: activation)
            return
        }
        let s = shape, m = tile, kernels = Self.level(for: s, tile: m, below: kernels)
        let tilesY = (s.outH + m - 1) / m, tilesX = (s.outW + m - 1) / m
        // The input split by phase of m: m² sub-planes of (tilesY + 1) × pitch per channel.
        let source = PhaseSplitSource(channels: 1, srcH: s.inH, srcW: s.inW, sy: m, sx: m, top: s.padTop, left: s.padLeft,
                                      phaseY: Array(0..<m), phaseX: Array(0..<m), rows: tilesY + 1, pitch: tilesX + 1, slack: 0)
        let blocking = Blocking(shape: s, tile: m, nr: kernels.nr, mr: kernels.mr, threads: Runtime.threadCount)
        FusedActivation.withBounds(activation) { bounds in
            if blocking.fuses {
                withPreparedWeights(w, rowBlock: blocking.rowBlock, kernels: kernels, weightStorage: weightStorage) { u in
                    forwardFused(blocking, source, input: x, weights: u, bias: bias, output: y, kernels: kernels, bounds: bounds)
                }
            } else {
                var gemm = BatchedGemm(shape: s, entries: entries, tiles: s.batch * tilesY * tilesX, nr: kernels.nr)
                gemm.rowBlock = gemm.parallelRowBlock(kernels)
                withPreparedWeights(w, rowBlock: gemm.rowBlock, kernels: kernels, weightStorage: weightStorage) { u in
                    forwardInPasses(gemm, source, input: x, weights: u, bias: bias, output: y, kernels: kernels, bounds: bounds)
                }
            }
        }
    }

    /// The kernels to run `s` with: `kernels`, or a narrower level below it (AVX2's 16-tile GEMM on an
    /// AVX-512 CPU) where the wide GEMM tiles would compute ≥ 1.25× as many (padded) tiles, or where
    /// the fused passes' block of one wide column tile (its input and output tiles) would overflow a
    /// core's 1 MiB L2 and the narrower one's does not. Measured, 2 threads: 14×14×256 (16 tiles, 32
    /// with AVX-512) 1.04 → 0.53 ms, DeepLab's dilated 33×33×256 4.84 → 4.08 ms; 56×56×64 (224 against
    /// 208 tiles) and 112×112×128 were 14–17 % slower on AVX2's tiles, which are less efficient.
    static func level(for s: ConvShape2D, tile m: Int, below kernels: KernelTable) -> KernelTable {
        func cost(_ table: KernelTable) -> (tiles: Int, overflows: Bool) {
            // One thread: the choice must not depend on the thread count (nor does the tile count).
            let blocking = Blocking(shape: s, tile: m, nr: table.nr, mr: table.mr, threads: 1)
            let groupRows = min(s.outChannels, 64)
            let bytes = (m + 2) * (m + 2) * 4 * blocking.blockTiles * (s.inChannels + groupRows)
            return (blocking.paddedTiles, blocking.fuses && bytes > 1 << 20)
        }
        let wide = cost(kernels)
        return kernels.firstLevel { table in
            // Not the portable level: its FMAs are library calls.
            guard table.isa != kernels.isa, table.isa != .portable else { return false }
            let narrow = cost(table)
            return 4 * wide.tiles >= 5 * narrow.tiles || wide.overflows && !narrow.overflows
        } ?? kernels
    }

    /// Runs `body` with the weights transformed into the GEMM's packed row panels: U[k][c_out][c_in]
    /// (row i of the tile at row R holds U[k][R + i][c_in] at k·cout·cin + R·cin + c_in·h + i, tiles
    /// cut per block of `rowBlock` rows), cached by the weights' identity when `weightStorage` is given.
    private func withPreparedWeights(_ w: UnsafePointer<Float>, rowBlock: Int, kernels: KernelTable, weightStorage: [Float]?,
                                     _ body: (UnsafePointer<Float>) -> Void) {
        let cin = shape.inChannels, cout = shape.outChannels, m = tile, entries = self.entries, count = entries * cout * cin
        let weights = kernels.winogradWeights, transpose = kernels.transposeOut
        func transform(into packed: UnsafeMutablePointer<Float>) {
            // Per row tile: T[k][i][c_in] with whole-vector stores, then each T[k] transposed into
            // the panel (scattered scalar stores straight into the panels were 3× slower).
            forEachRowPanel(entries: 1, m: cout, mc: rowBlock, mr: kernels.mr, grain: 1) { _, row, h, scratch in
                scratch.reset()
                scratch.reserve(floats: entries * h * cin)
                let t = scratch.floats(entries * h * cin)
                for i in 0..<h { weights(m, w + (row + i) * cin * 9, cin, t + i * cin, 1, h * cin) }
                for k in 0..<entries { transpose(t + k * h * cin, cin, h, cin, packed + k * cout * cin + row * cin, h, nil) }
            }
        }
        if let weightStorage {
            let layout = [1, cout, cin, rowBlock, kernels.mr, kernels.isa.rawValue, m]
            let entry = PackedWeightCache.shared.prepared(weightStorage, layout: layout, count: count) { transform(into: $0) }
            withExtendedLifetime(entry) { body(UnsafePointer(entry.pointer)) }
        } else {
            BufferCache.shared.with(count) { packed in
                transform(into: packed)
                body(UnsafePointer(packed))
            }
        }
    }

    /// Large maps: per item (image, block of tile rows, block of output channels), in the thread's
    /// cache: the block's rows of every input plane split by phase, its input tiles V_b[k][c_in][tile]
    /// (kept for the thread's next item of the same block), M_b[k] = U[k] · V_b[k] for the item's
    /// output channels, and their output tiles y = Aᵀ M A + bias. Nothing the size of the layer's
    /// tiles goes through memory, and each thread reads the input rows of its own blocks only: the
    /// rows it wrote itself when the layer before split its work by rows too (splitting all planes
    /// first, in a pass of their own, made each thread read the other's half of the input and of the
    /// split planes; measured, 2 threads, ResNet-18's 56×56×64 layers in this VM's windows where the
    /// two vCPUs share no cache: 0.92–0.97 → 0.72–0.81 ms).
    private func forwardFused(_ blocking: Blocking, _ source: PhaseSplitSource, input x: UnsafePointer<Float>,
                              weights u: UnsafePointer<Float>, bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
                              kernels: KernelTable, bounds: UnsafePointer<Float>?) {
        let s = shape, cin = s.inChannels, cout = s.outChannels, vw = kernels.vw, m = tile, entries = self.entries
        let tilesY = (s.outH + m - 1) / m, tilesX = (s.outW + m - 1) / m, pitch = source.pitch
        let bt = blocking.blockTiles, mc = blocking.rowBlock
        var gemm = BatchedGemm(shape: s, entries: entries, tiles: bt, nr: kernels.nr)
        gemm.rowBlock = mc
        gemm.cHoldsOneRowBlock = true
        let input = kernels.winogradInput, output = kernels.winogradOutput
        // The thread's split planes of one image (each block's rows and the next row, which its α×α
        // patches reach into, staged at their places); the input transform over-reads the last one.
        let vCount = entries * cin * bt, mCount = entries * mc * bt
        let splitCount = cin * source.channelStride, overread = pitch + 2 * vw
        let rowGroups = (cout + mc - 1) / mc
        parallelFor(s.batch * blocking.blocks * rowGroups) { range, scratch in
            scratch.reset()
            scratch.reserve(floats: vCount + mCount + vw + splitCount + overread)
            let v = scratch.floats(vCount), mm = scratch.floats(mCount + vw)   // the output transform over-reads M
            let split = scratch.floats(splitCount + overread)
            fillFloats(split + splitCount, 0, overread)
            for item in range {
                let group = item % rowGroups, block = item / rowGroups
                let n = block / blocking.blocks
                let (ty0, rows) = rowTile(block % blocking.blocks, of: blocking.blocks, rows: tilesY)
                let count = rows * tilesX
                if block != scratch.memo {
                    let missing = scratch.stage(image: n, rows: ty0..<ty0 + rows + 1)
                    for c in 0..<cin where !missing.isEmpty {
                        source.fillChannel(split + c * source.channelStride, from: x + (n * cin + c) * s.inPlane, rows: missing)
                    }
                    for c in 0..<cin {
                        input(m, split + c * source.channelStride + ty0 * pitch, source.subPlane, pitch, rows, tilesX, v + c * bt, cin * bt)
                    }
                    if count < bt {
                        for row in 0..<entries * cin { fillFloats(v + row * bt + count, 0, bt - count) }
                    }
                    scratch.memo = block
                }
                let r0 = group * mc, channels = min(mc, cout - r0)
                gemm.multiply(entries: 0..<entries, rows: r0..<r0 + channels, tiles: 0..<bt / kernels.nr, packedA: u, b: v, c: mm,
                              kernels: kernels)
                let outRows = min(m * rows, s.outH - m * ty0)
                for c in r0..<r0 + channels {
                    output(m, mm + (c - r0) * bt, gemm.cBatchStride, rows, tilesX, bias?[c] ?? 0, bounds,
                           y + (n * cout + c) * s.outPlane + m * ty0 * s.outW, outRows, s.outW)
                }
            }
        }
    }

    /// Small maps (few tile blocks): the three steps each over the whole layer — all input tiles
    /// V[k][c_in][tile], the α² GEMMs split over the threads by entry, row block and column tiles,
    /// all output tiles — so that every thread has work without repeating the input transform.
    private func forwardInPasses(_ gemm: BatchedGemm, _ source: PhaseSplitSource, input x: UnsafePointer<Float>,
                                 weights u: UnsafePointer<Float>, bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
                                 kernels: KernelTable, bounds: UnsafePointer<Float>?) {
        let s = shape, cin = s.inChannels, cout = s.outChannels, vw = kernels.vw, m = tile
        let tilesY = (s.outH + m - 1) / m, tilesX = (s.outW + m - 1) / m, tilesPerImage = tilesY * tilesX
        let tilesPad = gemm.n, vCount = entries * cin * tilesPad, mCount = entries * cout * tilesPad
        BufferCache.shared.with(vCount + mCount + vw) { v in   // the output transform over-reads M
            let mm = v + vCount
            // Input tiles, per (channel, image): consecutive items fill adjacent runs of V.
            let input = kernels.winogradInput
            source.forEachPlane(s.batch * cin, overread: source.pitch + 2 * vw,
                                plane: { x + (($0 % s.batch) * cin + $0 / s.batch) * s.inPlane }) { item, plane in
                let c = item / s.batch, n = item % s.batch
                input(m, plane, source.subPlane, source.pitch, tilesY, tilesX, v + c * tilesPad + n * tilesPerImage, cin * tilesPad)
            }
            gemm.run(packedA: u, b: v, c: mm, kernels: kernels)
            // Output tiles, per (output channel, image): consecutive items read adjacent runs of M.
            let output = kernels.winogradOutput
            parallelFor(s.batch * cout) { range, _ in
                for item in range {
                    let c = item / s.batch, n = item % s.batch
                    output(m, mm + c * tilesPad + n * tilesPerImage, cout * tilesPad, tilesY, tilesX, bias?[c] ?? 0, bounds,
                           y + (n * cout + c) * s.outPlane, s.outH, s.outW)
                }
            }
        }
    }

    /// How the fused passes cut the tiles and output channels. A block is a run of whole tile rows
    /// of one image, its tiles padded to whole GEMM column tiles (`blockTiles`): as few padded tiles
    /// as the blocks allow, within a block small enough that its input and output tiles stay in a
    /// core's L2 (¾ MiB). Output channels are cut in blocks of `rowBlock` (whole row tiles, at most
    /// 64 channels), smaller when there are too few tile blocks to keep every thread busy.
    struct Blocking {
        var blocks = 1, blockTiles = 0, rowBlock = 0
        /// Tiles the GEMMs compute, padded to whole column tiles (per block when fused).
        var paddedTiles = 0
        /// Whether the fused passes apply: the whole-layer passes' tiles (V and M) take ≥ 2 MiB,
        /// so they would stream through L3 or memory three times, and there are at least four tile
        /// blocks. Measured, 2 threads: 112×112×128 (29 MB of tiles) 7–11 % faster fused, a batch of
        /// 8 at 32×32×64 (9.4 MB) 18 %, DeepLab's dilated 33×33×256 (9.4 MB) 5–7 %; 56×56×64
        /// (4 MB) 0–3 % slower while L3 serves the whole-layer passes, but 1.8× faster (0.62 against
        /// 1.13 ms) in this VM's long windows where it does not (ResNet-18: 13.8 → 14.0 ms, and
        /// 18.7 → 17.9 ms in such a window). With fewer blocks (14×14×256, 28×28×128) each thread
        /// would stream all of a block's input tiles for every channel block (10–20 % slower).
        var fuses = false

        init(shape s: ConvShape2D, tile m: Int, nr: Int, mr: Int, threads: Int) {
            let tilesY = (s.outH + m - 1) / m, tilesX = (s.outW + m - 1) / m, entries = (m + 2) * (m + 2)
            let groupRows = min(s.outChannels, 64)
            let budget = max(nr, (768 << 10) / (entries * 4 * max(s.inChannels + groupRows, 1)))
            func padded(_ tiles: Int) -> Int { (tiles + nr - 1) / nr * nr }
            var best = (padded: Int.max, blocks: 1, tiles: padded(tilesY * tilesX))
            for blocks in 1...max(tilesY, 1) {
                let tallest = (tilesY + blocks - 1) / blocks
                let widest = padded(tallest * tilesX)
                guard widest <= budget || tallest == 1 else { continue }
                let total = (0..<blocks).reduce(0) { $0 + padded(rowTile($1, of: blocks, rows: tilesY).1 * tilesX) }
                if total < best.padded { best = (total, blocks, widest) }
            }
            blocks = best.blocks
            blockTiles = best.tiles
            let wholeLayerTiles = padded(s.batch * tilesY * tilesX)
            fuses = s.batch * blocks >= 4 && entries * 4 * (s.inChannels + s.outChannels) * wholeLayerTiles >= 2 << 20
            paddedTiles = fuses ? s.batch * best.padded : wholeLayerTiles
            // At most `groupRows` channels a block, and enough items for about four per thread, in
            // whole row tiles.
            let tileBlocks = max(s.batch * blocks, 1)
            let groups = max((s.outChannels + groupRows - 1) / groupRows,
                             min((s.outChannels + mr - 1) / mr, (4 * threads + tileBlocks - 1) / tileBlocks))
            rowBlock = max(1, ((s.outChannels + groups - 1) / groups + mr - 1) / mr * mr)
        }
    }

    /// The dilated correlation as the undilated `phases` over its gathered input phases.
    private func forwardByPhases(_ phases: ConvShape2D, input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, kernels: KernelTable,
                                 weightStorage: [Float]?, activation: FusedActivation?) {
        let s = shape
        let inCount = phases.batch * s.inChannels * phases.inPlane, outCount = phases.batch * s.outChannels * phases.outPlane
        BufferCache.shared.with(inCount + outCount) { buffer in
            let xs = buffer, ys = buffer + inCount
            // xs[(n, a, b)][c][u][v] = x[n][c][a + d_H·u][b + d_W·v], 0 past the input's edge.
            exchangePhases(UnsafeMutablePointer(mutating: x), xs, channels: s.inChannels, height: s.inH, width: s.inW,
                           phaseHeight: phases.inH, phaseWidth: phases.inW, gather: true)
            WinogradConvolution(shape: phases, tile: tile).forward(input: xs, weight: w, bias: bias, output: ys, kernels: kernels,
                                                       weightStorage: weightStorage, activation: activation)
            // y[n][c][a + d_H·i][b + d_W·j] = ys[(n, a, b)][c][i][j] inside the output.
            exchangePhases(y, ys, channels: s.outChannels, height: s.outH, width: s.outW,
                           phaseHeight: phases.outH, phaseWidth: phases.outW, gather: false)
        }
    }

    /// Between `[N, channels, height, width]` planes and their `d_H·d_W` phase images
    /// (`[N·d_H·d_W, channels, phaseHeight, phaseWidth]`, image `(n, a, b)`):
    /// `phased[(n, a, b)][c][u][v] ↔ dense[n][c][a + d_H·u][b + d_W·v]`. Gathering fills the phase
    /// images (0 where the dense position is past the edge); scattering writes back the positions
    /// inside the dense planes. In parallel over dense planes.
    private func exchangePhases(_ dense: UnsafeMutablePointer<Float>, _ phased: UnsafeMutablePointer<Float>, channels: Int,
                                height: Int, width: Int, phaseHeight: Int, phaseWidth: Int, gather: Bool) {
        let s = shape, dh = s.dilationH, dw = s.dilationW
        parallelFor(s.batch * channels) { range, _ in
            for plane in range {
                let n = plane / channels, c = plane % channels
                let full = dense + plane * height * width
                for a in 0..<dh {
                    for b in 0..<dw {
                        let image = phased + (((n * dh + a) * dw + b) * channels + c) * phaseHeight * phaseWidth
                        for u in 0..<phaseHeight {
                            let row = image + u * phaseWidth, y = a + dh * u
                            for v in 0..<phaseWidth {
                                let x = b + dw * v, inside = y < height && x < width
                                if gather {
                                    row[v] = inside ? full[y * width + x] : 0
                                } else if inside {
                                    full[y * width + x] = row[v]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `C[b] = A[b] · B[b]` for the α² Winograd entries: `A[b]` the transformed weights (`m × k`,
/// packed in row panels as ``packRowPanels(_:lda:aStride:entries:m:k:mc:kernels:into:)`` lays them out
/// with `mc = rowBlock`), `B[b]` the input tiles (row-major `k × n`, `n` a multiple of NR), `C[b]`
/// rows `ldc = n` apart. K blocks outermost; each element is one chain of fused multiply-adds in
/// k order, so results do not depend on the blocking.
struct BatchedGemm {
    let batch: Int
    let m: Int, k: Int, n: Int
    /// Rows per block of the packed layout of A.
    var rowBlock = 0
    /// Whether C holds the rows of one row block (at row 0; the fused passes) rather than all `m`.
    var cHoldsOneRowBlock = false
    var ldb: Int { n }
    var ldc: Int { n }
    var bBatchStride: Int { k * n }
    var cBatchStride: Int { (cHoldsOneRowBlock ? rowBlock : m) * n }

    /// The `entries` GEMMs of `tiles` (a count of tiles, padded to whole NR columns) for `shape`'s channels.
    init(shape: ConvShape2D, entries: Int, tiles: Int, nr: Int) {
        batch = entries
        m = shape.outChannels
        k = shape.inChannels
        n = (tiles + nr - 1) / nr * nr
    }

    /// Rows of A per work item when ``run(packedA:b:c:kernels:)`` splits the whole product.
    func parallelRowBlock(_ kernels: KernelTable) -> Int {
        let kc = IndirectGemm.blockDepth(k: k, nr: kernels.nr)
        return IndirectGemm.blocking(m: m, kc: kc, mr: kernels.mr, tiles: n / kernels.nr, units: batch).mc
    }

    /// The whole product (C with all `m` rows), in parallel over items of (entry, row block,
    /// group of column tiles), blocked like ``IndirectGemm``.
    func run(packedA: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        guard m > 0, n > 0 else { return }
        let nr = kernels.nr, tiles = n / nr
        let kc = IndirectGemm.blockDepth(k: k, nr: nr)
        let blocking = IndirectGemm.blocking(m: m, kc: kc, mr: kernels.mr, tiles: tiles, units: batch)
        let mc = blocking.mc, mBlocks = (m + mc - 1) / mc
        let tileGroup = blocking.tileGroup, tileGroups = (tiles + tileGroup - 1) / tileGroup
        parallelFor(batch * mBlocks * tileGroups) { range, _ in
            for item in range {
                let tg = item % tileGroups, mb = item / tileGroups % mBlocks, entry = item / tileGroups / mBlocks
                multiply(entries: entry..<entry + 1, rows: mb * mc..<min(m, (mb + 1) * mc),
                         tiles: tg * tileGroup..<min(tiles, (tg + 1) * tileGroup), packedA: packedA, b: b, c: c, kernels: kernels)
            }
        }
    }

    /// `C[b][r − r₀, tiles] = A[b][r] · B[b][·, tiles]` for entries `b` and rows `r` in `rows`
    /// (within one row block of the packed layout; `r₀` is that block's first row when C holds one
    /// row block, else 0), on the calling thread.
    func multiply(entries: Range<Int>, rows: Range<Int>, tiles: Range<Int>, packedA: UnsafePointer<Float>,
                  b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        guard !rows.isEmpty, !tiles.isEmpty else { return }
        let nr = kernels.nr, mr = kernels.mr
        precondition(n % nr == 0, "BatchedGemm: n must be a multiple of NR")
        let cRow0 = cHoldsOneRowBlock ? rows.lowerBound / rowBlock * rowBlock : 0
        if k == 0 {
            for e in entries {
                for r in rows { (c + e * cBatchStride + (r - cRow0) * ldc + tiles.lowerBound * nr).initialize(repeating: 0, count: tiles.count * nr) }
            }
            return
        }
        let kc = IndirectGemm.blockDepth(k: k, nr: nr)
        let rowTiles = (rows.count + mr - 1) / mr
        let gemmPacked = kernels.gemmPacked
        for entry in entries {
            let aEntry = packedA + (entry * m + rows.lowerBound) * k
            let bEntry = b + entry * bBatchStride, cEntry = c + entry * cBatchStride + (rows.lowerBound - cRow0) * ldc
            var k0 = 0
            while k0 < k {
                let kcb = min(kc, k - k0)
                for t in tiles {
                    for tile in 0..<rowTiles {
                        let (r, mrows) = rowTile(tile, of: rowTiles, rows: rows.count)
                        gemmPacked(mrows, nr, kcb, aEntry + r * k + k0 * mrows, bEntry + k0 * ldb + t * nr, ldb, nil,
                                   cEntry + r * ldc + t * nr, ldc, 1, nil, k0 == 0 ? 0 : 1, nil)
                    }
                }
                k0 += kcb
            }
        }
    }
}
