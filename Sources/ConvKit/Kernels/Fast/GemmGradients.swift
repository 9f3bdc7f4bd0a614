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

        // A of every phase, side by side: phase φ, group g, row c_in holds (tap, c_out) pairs.
        var phaseBase: [Int] = []
        var total = 0
        for phase in phases {
            phaseBase.append(total)
            total += s.groups * cig * phase.taps.count * mg
        }
        let aHandle = BufferCache.shared.acquire(max(total, 1))
        defer { BufferCache.shared.release(aHandle) }
        let a = aHandle.pointer
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
        let bufferHandle = BufferCache.shared.acquire(source.count(batch: s.batch))
        defer { BufferCache.shared.release(bufferHandle) }
        let buffer = bufferHandle.pointer
        source.fill(buffer, from: x, batch: s.batch)

        // ∂L/∂yᵀ per image and group on the source grid: [position][c_out padded to NR], zero in
        // the dropped columns and the padding channels.
        let gyTHandle = BufferCache.shared.acquire(s.batch * s.groups * positions * mgPad)
        defer { BufferCache.shared.release(gyTHandle) }
        let gyT = gyTHandle.pointer
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
