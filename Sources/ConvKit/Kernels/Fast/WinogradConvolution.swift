import CConvKitKernels

/// 3×3, stride-1, undilated correlation by Winograd's minimal filtering F(4×4, 3×3): each 4×4
/// output tile costs 36 multiplies per (input, output) channel pair instead of 144.
///
/// 1. `U[k][c_out][c_in] = (G g Gᵀ)[k]` (36 transformed weights per pair, per call).
/// 2. `V[k][c_in][tile] = (Bᵀ d Bᵀ)[k]` over 6×6 input patches. Each channel is first split by phase of
///    4 (zero-padded), so the patches of consecutive tiles are contiguous runs (vectors over tiles).
/// 3. 36 GEMMs `M[k] = U[k] · V[k]` with the GEMM micro-kernel.
/// 4. `y[tile] = Aᵀ M A + bias`.
///
/// A dilated 3×3 correlation (dilation d, padding a multiple of d per axis) is d_H·d_W undilated
/// ones: output rows `a + d·i` read only input rows `a + d·u`, so each phase (a, b) of the input is
/// gathered into an image of its own, the phases run as one batch, and the outputs are scattered
/// back (DeepLab's atrous 3×3 layers: 2.7× fewer multiplies than the direct sum).
///
/// Forward only (gradients use the GEMM paths). Its rounding differs from direct summation; the
/// planner uses it only where the error stays within 2·10⁻⁴ of the reference (measured by the
/// tests on the benchmark layers' channel counts).
struct WinogradConvolution {
    let shape: ConvShape2D

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

    /// Whether the planner picks it: the 36 GEMMs must do at most half the multiplies of the direct
    /// convolution once the tiles are padded to whole GEMM columns (16), and either the image has
    /// enough 4×4 tiles (≥ 36, ≥ 80 % of their outputs used) to amortise the per-plane transforms, or
    /// both channel counts are ≥ 128, so the GEMMs dwarf the transforms. Measured on the benchmark
    /// suite (1.3–2.2× over the GEMM path): 56×56 and 112×112 layers, and 14×14 with 256 channels
    /// (1.9×); 11×11 outputs with 32→64 channels lose 3× (transforms of tiny planes dominate).
    /// `weightsReused: false` (weights transformed on every call: the input gradient's flipped
    /// weights) drops the channel-count case: there the weight transform is not amortised (the
    /// 14×14×256 training step was 1.4× slower with it).
    static func isWorthwhile(_ s: ConvShape2D, weightsReused: Bool = true) -> Bool {
        guard let p = phaseShape(s), s.inChannels >= 16, s.outChannels >= 16 else { return false }
        let tilesPerImage = ((p.outH + 3) / 4) * ((p.outW + 3) / 4)
        let tilesPadded = (p.batch * tilesPerImage + 15) / 16 * 16
        let saving = Double(9 * s.outH * s.outW * s.batch) / Double(36 * max(tilesPadded, 1))
        let coverage = Double(p.outH * p.outW) / Double(16 * tilesPerImage)
        let manyTiles = tilesPerImage >= 36 && coverage >= 0.8
        return saving >= 2 && (manyTiles || weightsReused && min(s.inChannels, s.outChannels) >= 128)
    }

    func forward(input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output y: UnsafeMutablePointer<Float>, kernels: KernelTable, weightStorage: [Float]? = nil,
                 activation: FusedActivation? = nil) {
        if shape.dilationH > 1 || shape.dilationW > 1, let phases = Self.phaseShape(shape) {
            forwardByPhases(phases, input: x, weight: w, bias: bias, output: y, kernels: kernels, weightStorage: weightStorage,
                            activation: activation)
            return
        }
        let s = shape
        let cin = s.inChannels, cout = s.outChannels
        let tilesY = (s.outH + 3) / 4, tilesX = (s.outW + 3) / 4
        let tilesPerImage = tilesY * tilesX
        let nr = kernels.nr, vw = kernels.vw
        let tiles = s.batch * tilesPerImage
        let tilesPad = (tiles + nr - 1) / nr * nr
        // The input split by phase of 4: 16 sub-planes of (tilesY + 1) × pitch per channel.
        let pitch = tilesX + 1
        let source = PhaseSplitSource(channels: 1, srcH: s.inH, srcW: s.inW, sy: 4, sx: 4, top: s.padTop, left: s.padLeft,
                                      phaseY: [0, 1, 2, 3], phaseX: [0, 1, 2, 3], rows: tilesY + 1, pitch: pitch, slack: 0)

        let uCount = 36 * cout * cin, vCount = 36 * cin * tilesPad, mCount = 36 * cout * tilesPad
        let buffer = BufferCache.shared.acquire(vCount + mCount + vw)   // the output transform over-reads M
        defer { BufferCache.shared.release(buffer) }
        let v = buffer.pointer, m = v + vCount
        var gemm = BatchedGemm()
        gemm.batch = 36
        gemm.m = cout; gemm.k = cin; gemm.n = tilesPad
        gemm.bBatchStride = cin * tilesPad; gemm.ldb = tilesPad
        gemm.cBatchStride = cout * tilesPad; gemm.ldc = tilesPad

        // 1. Weights: U[k][c_out][c_in], written straight into the GEMM's packed row panels (the
        // layout of `BatchedGemm.packA`: row i of the tile at row R holds U[k][R + i][c_in] at
        // k·cout·cin + R·cin + c_in·h + i), cached by the weights' identity.
        let weights = kernels.winogradWeights
        func transform(into packed: UnsafeMutablePointer<Float>) {
            forEachRowPanel(entries: 1, m: cout, mc: gemm.rowBlock(kernels), mr: kernels.mr, grain: 1) { _, row, h in
                for i in 0..<h {
                    weights(w + (row + i) * cin * 9, cin, packed + row * cin + i, h, cout * cin)
                }
            }
        }
        let entry: PackedWeightCache.Entry?
        let packedU: UnsafePointer<Float>
        let temporary = weightStorage == nil ? BufferCache.shared.acquire(uCount) : nil
        defer { temporary.map { BufferCache.shared.release($0) } }
        if let weightStorage {
            let layout = [1, cout, cin, gemm.rowBlock(kernels), kernels.mr, kernels.isa.rawValue]
            entry = PackedWeightCache.shared.prepared(weightStorage, layout: layout, count: uCount) { transform(into: $0) }
            packedU = UnsafePointer(entry!.pointer)
        } else {
            entry = nil
            transform(into: temporary!.pointer)
            packedU = UnsafePointer(temporary!.pointer)
        }
        // 2. Input tiles, per (channel, image): consecutive items fill adjacent runs of V.
        let input = kernels.winogradInput
        source.forEachPlane(s.batch * cin, overread: pitch + 2 * vw,
                            plane: { x + (($0 % s.batch) * cin + $0 / s.batch) * s.inPlane }) { item, plane in
            let c = item / s.batch, n = item % s.batch
            input(plane, source.subPlane, pitch, tilesY, tilesX, v + c * tilesPad + n * tilesPerImage, cin * tilesPad)
        }
        // 3. M[k] = U[k] · V[k].
        withExtendedLifetime(entry) { gemm.run(packedA: packedU, b: v, c: m, kernels: kernels) }
        // 4. Output tiles, per (output channel, image): consecutive items read adjacent runs of M.
        let output = kernels.winogradOutput
        FusedActivation.withBounds(activation) { bounds in
            parallelFor(s.batch * cout) { range, _ in
                for item in range {
                    let c = item / s.batch, n = item % s.batch
                    output(m + c * tilesPad + n * tilesPerImage, cout * tilesPad, tilesY, tilesX, bias?[c] ?? 0, bounds,
                           y + (n * cout + c) * s.outPlane, s.outH, s.outW)
                }
            }
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
            WinogradConvolution(shape: phases).forward(input: xs, weight: w, bias: bias, output: ys, kernels: kernels,
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

/// `C[b] = A[b] · B[b]` for a batch of matrices (`m × k`, given packed in row panels as
/// ``packRowPanels(_:lda:aStride:entries:m:k:mc:mr:into:)`` lays them out with `mc = rowBlock`,
/// times row-major `k × n`, `n` a multiple of NR), blocked like ``IndirectGemm`` (items = batch entry × row block × column-tile group, K blocks
/// outermost inside an item; results independent of the blocking).
struct BatchedGemm {
    var batch = 1
    var m = 0, k = 0, n = 0
    var bBatchStride = 0, ldb = 0
    var cBatchStride = 0, ldc = 0

    /// Rows of A per work item for these kernels (the packed layout depends on it).
    func rowBlock(_ kernels: KernelTable) -> Int {
        let kc = IndirectGemm.blockDepth(k: k, nr: kernels.nr)
        return IndirectGemm.blocking(m: m, kc: kc, mr: kernels.mr, tiles: n / kernels.nr, units: batch).mc
    }

    func run(packedA: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        guard batch > 0, m > 0, n > 0 else { return }
        let nr = kernels.nr, mr = kernels.mr
        precondition(n % nr == 0, "BatchedGemm: n must be a multiple of NR")
        if k == 0 {
            for i in 0..<batch { for r in 0..<m { (c + i * cBatchStride + r * ldc).initialize(repeating: 0, count: n) } }
            return
        }
        let kc = IndirectGemm.blockDepth(k: k, nr: nr)
        let tiles = n / nr
        let blocking = IndirectGemm.blocking(m: m, kc: kc, mr: mr, tiles: tiles, units: batch)
        let mc = blocking.mc, mBlocks = (m + mc - 1) / mc
        let tileGroup = blocking.tileGroup, tileGroups = (tiles + tileGroup - 1) / tileGroup
        let gemmPacked = kernels.gemmPacked
        let p = self
        parallelFor(batch * mBlocks * tileGroups) { range, _ in
            for item in range {
                let tg = item % tileGroups
                var rest = item / tileGroups
                let mb = rest % mBlocks; rest /= mBlocks
                let entry = rest
                let r0 = mb * mc, rows = min(mc, p.m - r0)
                let t0 = tg * tileGroup, count = min(tileGroup, tiles - t0)
                let aEntry = packedA + (entry * p.m + r0) * p.k
                let bEntry = b + entry * p.bBatchStride + t0 * nr
                let cEntry = c + entry * p.cBatchStride + r0 * p.ldc + t0 * nr
                let rowTiles = (rows + mr - 1) / mr
                var k0 = 0
                while k0 < p.k {
                    let kcb = min(kc, p.k - k0)
                    for t in 0..<count {
                        for tile in 0..<rowTiles {
                            let (r, mrows) = rowTile(tile, of: rowTiles, rows: rows)
                            gemmPacked(mrows, nr, kcb, aEntry + r * p.k + k0 * mrows, bEntry + k0 * p.ldb + t * nr, p.ldb, nil,
                                       cEntry + r * p.ldc + t * nr, p.ldc, 1, nil, k0 == 0 ? 0 : 1, nil)
                        }
                    }
                    k0 += kcb
                }
            }
        }
    }
}
