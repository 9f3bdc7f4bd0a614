import CConvKitKernels

/// The two gradients of a correlation with the GEMM micro-kernels.
///
/// - Input gradient: split the input positions by stride phase `(iy mod s_h, ix mod s_w)`. Within a
///   phase only the taps with `(phase + pad − k·d) ≡ 0 (mod s)` reach it, and they read the output
///   gradient at stride 1: one ``IndirectGemm`` per phase over the zero-padded output gradient, with
///   `A[c_in, (tap, c_out)]` (the weights permuted once per call) and no zero-stuffing. Stride 1 is
///   the single-phase case.
/// - Weight gradient: `∂L/∂wᵀ[(c_in, kh, kw), c_out] = Σ_{n, j} src[tap + j] · ∂L/∂yᵀ[j, c_out]` over
///   the positions `j` of the forward pass's phase-split source (its rows are read in place), with
///   `∂L/∂yᵀ` transposed once onto the same grid (zero in the dropped columns). Threads own rows of
///   taps, so no reduction is split between threads.
struct GemmGradients {
    let shape: ConvShape2D

    func backwardInput(gradOutput gy: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                       gradInput gx: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape
        let cig = s.inPerGroup, mg = s.outPerGroup, area = s.kernelArea
        let strides = StridePhases(shape: s)
        let phases = strides.phases
        let (lowY, lowX) = (strides.lowY, strides.lowX)
        let source = strides.outputGradientSource(shape: s, channels: s.outChannels, nr: kernels.nr)
        let pitch = source.pitch
        let bufferHandle = BufferCache.shared.acquire(source.count(batch: s.batch))
        defer { BufferCache.shared.release(bufferHandle) }
        let buffer = bufferHandle.pointer
        source.fill(buffer, from: gy, batch: s.batch)

        // Input positions no tap reaches (e.g. the odd rows and columns of a 1×1 stride-2 layer) are zero.
        if phases.contains(where: { $0.taps.isEmpty }) {
            parallelFor(s.batch * s.inChannels, grain: 8) { range, _ in
                fillFloats(gx + range.lowerBound * s.inPlane, 0, range.count * s.inPlane)
            }
        }
        for phase in phases where !phase.taps.isEmpty {
            var p = IndirectGemm()
            p.batch = s.batch
            p.groups = s.groups
            p.m = cig
            p.k = phase.taps.count * mg
            p.aGroupStride = cig * p.k
            p.lda = p.k
            for tap in phase.taps {
                for co in 0..<mg {
                    p.bOffset.append(source.offset(channel: co, dyRaw: tap.oy - lowY, dxRaw: tap.ox - lowX))
                }
            }
            p.srcImageStride = source.imageStride
            p.srcGroupStride = mg * source.channelStride
            p.gridH = phase.gridH
            p.pitch = pitch
            p.validW = phase.gridW
            p.dstImageStride = s.inChannels * s.inPlane
            p.dstGroupStride = cig * s.inPlane
            p.dstRowStride = s.inPlane
            p.dstOffset = phase.ry * s.inW + phase.rx
            p.dstY = s.strideH * s.inW
            p.dstX = s.strideW
            let kPhase = p.k
            let taps = phase.taps.map { $0.kh * s.kW + $0.kw }
            if taps == Array(0..<area), PositionRowsGemm.isWorthwhile(p, kernels: kernels) {
                // Turned around (input positions as rows; a stride-1 layer's one phase, every tap).
                // Its Wᵀ panels: panel q holds A[q·NR + c, (tap, c_out)] = w[c_out, q·NR + c, tap]
                // at (tap·mg + c_out)·NR + c, one transposition of w[c_out, q·NR ..< q·NR + NR, :] per
                // (q, c_out); zero for c_in past the channels.
                let turned = PositionRowsGemm(problem: p), nr = kernels.nr, transpose = kernels.transposeOut
                let panels = (cig + nr - 1) / nr
                BufferCache.shared.with(turned.packedWeightCount(kernels)) { packed in
                    parallelFor(panels * mg, grain: 4) { items, _ in
                        for item in items {
                            let q = item / mg, co = item % mg, channels = min(nr, cig - q * nr)
                            let panel = packed + q * kPhase * nr + co * nr
                            if channels < nr {
                                for t in 0..<area { fillFloats(panel + t * mg * nr, 0, nr) }
                            }
                            transpose(w + (co * cig + q * nr) * area, area, channels, area, panel, mg * nr, nil)
                        }
                    }
                    turned.run(packedWeights: packed, src: buffer, dst: gx, bias: nil, activation: nil, kernels: kernels)
                }
                continue
            }
            // A[c_in, (tap, c_out)] = w[c_out, c_in, tap], built straight into the kernel's packed
            // row-tile panels: for each output channel the panel's rows are one contiguous block of w.
            BufferCache.shared.with(max(s.groups * cig * kPhase, 1)) { packed in
                let everyTap = area > 1 && taps == Array(0..<area), transpose = kernels.transposeOut
                forEachRowPanel(entries: s.groups, m: cig, mc: p.rowBlock(kernels), mr: kernels.mr, grain: 2) { g, row, h, _ in
                    let panel = packed + (g * cig + row) * kPhase
                    for co in 0..<mg {
                        let block = w + ((g * mg + co) * cig + row) * area   // w[co, row ..< row + h, :]
                        if everyTap {
                            // dst(t)[i] = block[i·area + t] for every tap: one transposition.
                            transpose(block, area, h, area, panel + co * h, mg * h, nil)
                            continue
                        }
                        for (t, tap) in taps.enumerated() {
                            let dst = panel + (t * mg + co) * h
                            for i in 0..<h { dst[i] = block[i * area + tap] }
                        }
                    }
                }
                p.run(packedA: packed, src: buffer, dst: gx, bias: nil, kernels: kernels)
            }
        }
    }

    func backwardWeight(gradOutput gy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        gradWeight gw: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape
        let cig = s.inPerGroup, mg = s.outPerGroup, area = s.kernelArea
        let kg = cig * area
        let nr = kernels.nr, mr = kernels.mr
        let mgPad = (mg + nr - 1) / nr * nr
        guard kg > 0, mg > 0 else { return }
        let fast = FastConvolution(shape: s, algorithm: .gemm)
        let source = fast.forwardSource(nr: nr)
        let taps = fast.forwardProblem(source).bOffset
        let pitch = source.pitch
        let positions = s.outH * pitch
        let bufferHandle = BufferCache.shared.acquire(source.count(batch: s.batch))
        defer { BufferCache.shared.release(bufferHandle) }
        let buffer = bufferHandle.pointer
        source.fill(buffer, from: x, batch: s.batch)

        // ∂L/∂yᵀ per image and group on the source grid, as NR-wide panels of output channels:
        // panel q holds [position][NR] (zero in the dropped columns and the padding channels), so
        // the kernel streams each panel contiguously.
        let panels = mgPad / nr
        let gyTHandle = BufferCache.shared.acquire(s.batch * s.groups * positions * mgPad)
        defer { BufferCache.shared.release(gyTHandle) }
        let gyT = gyTHandle.pointer
        let transpose = kernels.transposeOut
        parallelFor(s.batch * s.groups * s.outH) { range, _ in
            for item in range {
                let ng = item / s.outH, oy = item % s.outH
                let src = gy + ng * mg * s.outPlane + oy * s.outW
                for q in 0..<panels {
                    let dst = gyT + ((ng * panels + q) * positions + oy * pitch) * nr
                    let first = q * nr, count = min(mg, first + nr) - first
                    // dst[j·NR + c] = ∂L/∂y[first + c][oy][j]: one transposition of the row's channels.
                    if count < nr { fillFloats(dst, 0, s.outW * nr) }
                    transpose(src + first * s.outPlane, s.outPlane, count, s.outW, dst, nr, nil)
                    fillFloats(dst + s.outW * nr, 0, (pitch - s.outW) * nr)
                }
            }
        }
        // Work items own blocks of tap rows (all output channels); inside an item, position blocks
        // are outermost so that a block of ∂L/∂yᵀ (block × mgPad floats) is reused by every tap tile
        // of the item while it is in cache. Each element's sum runs over (image, position) in order
        // as one chain (the kernel continues from the accumulator), whatever the blocking.
        let block = max(64, min(256, 32768 / mgPad))
        let tapTiles = (kg + mr - 1) / mr
        let threads = Runtime.threadCount
        let tilesPerItem = max(1, min(8, tapTiles * s.groups / (4 * threads)))
        let itemsPerGroup = (tapTiles + tilesPerItem - 1) / tilesPerItem
        let gemm = kernels.gemm
        taps.withUnsafeBufferPointer { taps in
            let tapOffsets = taps.baseAddress!
            parallelFor(s.groups * itemsPerGroup) { range, scratch in
                scratch.reset()
                let accCount = tilesPerItem * mr * mgPad
                scratch.reserve(floats: accCount + mr * 2)
                let acc = scratch.floats(accCount)
                let aRows = UnsafeMutableRawPointer(scratch.floats(mr * 2))
                    .bindMemory(to: UnsafePointer<Float>?.self, capacity: mr)
                for item in range {
                    let g = item / itemsPerGroup
                    let t0 = (item % itemsPerGroup) * tilesPerItem
                    let k0 = t0 * mr, rows = min(tilesPerItem * mr, kg - k0)
                    var first = true
                    for n in 0..<s.batch {
                        let src = UnsafePointer(buffer) + n * source.imageStride + g * cig * source.channelStride
                        let gyImage = UnsafePointer(gyT) + (n * s.groups + g) * panels * positions * nr
                        var p0 = 0
                        while p0 < positions {
                            let count = min(block, positions - p0)
                            var r = 0
                            while r < rows {
                                let mrows = min(mr, rows - r)
                                for i in 0..<mrows { aRows[i] = src + tapOffsets[k0 + r + i] + p0 }
                                for q in 0..<panels {
                                    gemm(mrows, nr, count, aRows, 1, gyImage + (q * positions + p0) * nr, nr,
                                         acc + r * mgPad + q * nr, mgPad, 1, nil, first ? 0 : 1)
                                }
                                r += mrows
                            }
                            first = false
                            p0 += count
                        }
                    }
                    if first { acc.initialize(repeating: 0, count: rows * mgPad) }
                    // ∂L/∂w[c_out, k0 ..< k0 + rows] = accᵀ: a contiguous run per output channel.
                    transpose(acc, mgPad, rows, mg, gw + g * mg * kg + k0, kg, nil)
                }
            }
        }
    }
}
