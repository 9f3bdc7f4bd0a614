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

    /// One stride phase of the input gradient: its first input row/column and its taps.
    private struct Phase {
        var ry = 0, rx = 0
        var gridH = 0, gridW = 0
        /// (kh, kw, offsetY, offsetX) of each tap reaching this phase: it reads output-gradient row
        /// `i + offsetY` for input row `ry + i·s_h`.
        var taps: [(kh: Int, kw: Int, oy: Int, ox: Int)] = []
    }

    private func phases() -> [Phase] {
        let s = shape
        func axis(_ residue: Int, kernel: Int, pad: Int, dilation: Int, stride: Int) -> [(Int, Int)] {
            (0..<kernel).compactMap { k in
                let shift = residue + pad - k * dilation
                return ((shift % stride) + stride) % stride == 0 ? (k, shift / stride) : nil
            }
        }
        var result: [Phase] = []
        for ry in 0..<min(s.strideH, s.inH) {
            let rows = axis(ry, kernel: s.kH, pad: s.padTop, dilation: s.dilationH, stride: s.strideH)
            for rx in 0..<min(s.strideW, s.inW) {
                let cols = axis(rx, kernel: s.kW, pad: s.padLeft, dilation: s.dilationW, stride: s.strideW)
                var phase = Phase(ry: ry, rx: rx,
                                  gridH: (s.inH - ry + s.strideH - 1) / s.strideH,
                                  gridW: (s.inW - rx + s.strideW - 1) / s.strideW)
                for (kh, oy) in rows { for (kw, ox) in cols { phase.taps.append((kh, kw, oy, ox)) } }
                result.append(phase)
            }
        }
        return result
    }

    func backwardInput(gradOutput gy: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                       gradInput gx: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape
        let cig = s.inPerGroup, mg = s.outPerGroup, area = s.kernelArea
        let phases = phases()
        // The output gradient, zero-padded so that every tap of every phase reads inside it.
        var lowY = 0, highY = 0, lowX = 0, highX = 0, gridH = 0, gridW = 0
        for phase in phases {
            gridH = max(gridH, phase.gridH); gridW = max(gridW, phase.gridW)
            for tap in phase.taps {
                lowY = min(lowY, tap.oy); highY = max(highY, tap.oy)
                lowX = min(lowX, tap.ox); highX = max(highX, tap.ox)
            }
        }
        let pitch = gridW + (highX - lowX)
        let source = PhaseSplitSource(channels: s.outChannels, srcH: s.outH, srcW: s.outW, sy: 1, sx: 1,
                                      top: -lowY, left: -lowX, phaseY: [0], phaseX: [0],
                                      rows: gridH + (highY - lowY), pitch: pitch, slack: pitch + 2 * kernels.nr)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: source.count(batch: s.batch))
        defer { buffer.deallocate() }
        source.fill(buffer, from: gy, batch: s.batch)

        // A of every phase, side by side: phase φ, group g, row c_in holds (tap, c_out) pairs.
        var phaseBase: [Int] = []
        var total = 0
        for phase in phases {
            phaseBase.append(total)
            total += s.groups * cig * phase.taps.count * mg
        }
        let a = UnsafeMutablePointer<Float>.allocate(capacity: max(total, 1))
        defer { a.deallocate() }
        parallelFor(s.groups * cig) { range, _ in
            for row in range {
                let g = row / cig, c = row % cig
                for (index, phase) in phases.enumerated() {
                    let kPhase = phase.taps.count * mg
                    var dst = a + phaseBase[index] + row * kPhase
                    for tap in phase.taps {
                        var src = w + (g * mg * cig + c) * area + tap.kh * s.kW + tap.kw
                        for _ in 0..<mg {
                            dst.pointee = src.pointee
                            dst += 1
                            src += cig * area
                        }
                    }
                }
            }
        }
        for (index, phase) in phases.enumerated() {
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
            p.run(a: a + phaseBase[index], src: buffer, dst: gx, bias: nil, kernels: kernels)
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
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: source.count(batch: s.batch))
        defer { buffer.deallocate() }
        source.fill(buffer, from: x, batch: s.batch)

        // ∂L/∂yᵀ per image and group on the source grid: [position][c_out padded to NR], zero in
        // the dropped columns and the padding channels.
        let gyT = UnsafeMutablePointer<Float>.allocate(capacity: s.batch * s.groups * positions * mgPad)
        defer { gyT.deallocate() }
        parallelFor(s.batch * s.groups * s.outH) { range, _ in
            for item in range {
                let ng = item / s.outH, oy = item % s.outH
                let src = gy + ng * mg * s.outPlane + oy * s.outW
                let dst = gyT + (ng * positions + oy * pitch) * mgPad
                dst.initialize(repeating: 0, count: pitch * mgPad)
                for c in 0..<mg {
                    let row = src + c * s.outPlane
                    for j in 0..<s.outW { dst[j * mgPad + c] = row[j] }
                }
            }
        }
        let block = max(64, min(512, 32768 / mgPad))
        let tilesPerGroup = (kg + mr - 1) / mr
        let gemm = kernels.gemm
        taps.withUnsafeBufferPointer { taps in
            let tapOffsets = taps.baseAddress!
            parallelFor(s.groups * tilesPerGroup) { range, scratch in
                scratch.reset()
                scratch.reserve(floats: mr * mgPad + mr * 2)
                let acc = scratch.floats(mr * mgPad)
                let aRows = UnsafeMutableRawPointer(scratch.floats(mr * 2))
                    .bindMemory(to: UnsafePointer<Float>?.self, capacity: mr)
                for item in range {
                    let g = item / tilesPerGroup, k0 = (item % tilesPerGroup) * mr
                    let mrows = min(mr, kg - k0)
                    var first = true
                    for n in 0..<s.batch {
                        let src = UnsafePointer(buffer) + n * source.imageStride + g * cig * source.channelStride
                        let gyImage = UnsafePointer(gyT) + (n * s.groups + g) * positions * mgPad
                        var p0 = 0
                        while p0 < positions {
                            let count = min(block, positions - p0)
                            for r in 0..<mrows { aRows[r] = src + tapOffsets[k0 + r] + p0 }
                            var j = 0
                            while j < mgPad {
                                gemm(mrows, nr, count, aRows, 1, gyImage + p0 * mgPad + j, mgPad,
                                     acc + j, mgPad, 1, nil, first ? 0 : 1)
                                j += nr
                            }
                            first = false
                            p0 += count
                        }
                    }
                    if first { acc.initialize(repeating: 0, count: mr * mgPad) }
                    // ∂L/∂w[c_out, k] = accᵀ.
                    for r in 0..<mrows {
                        let dst = gw + g * mg * kg + k0 + r
                        for co in 0..<mg { dst[co * kg] = acc[r * mgPad + co] }
                    }
                }
            }
        }
    }
}
