import CConvKitKernels

/// Max and average pooling of 1-D and 2-D planes with the window kernels.
///
/// - Max forward: each plane is copied into a stride-phase-split scratch plane padded with −∞, in
///   which every window tap is a contiguous run; the kernel keeps PyTorch's argmax rule (first
///   strictly larger value, NaN wins, an all −∞ window reports its first element) with a table of
///   each grid position's plane index. Without indices, 3 × 3 windows at stride 1 or 2 with left
///   padding 1 (ResNet's stem) are read from the planes in place (`max3x3`, same rule).
/// - Max backward: each output gradient is added at its argmax, plane by plane in output order (as
///   the reference).
/// - Average forward: the zero-padded window sum (in the reference's tap order, so the sum is
///   exact to the reference) divided by the window's divisor.
/// - Average backward: `∂L/∂y / divisor` summed over the windows that contain each input, per
///   stride phase (as a depthwise input gradient with unit weights).
///
/// Planes (`N·C`) are the unit of work. Windows without any input element, adaptive windows and
/// 3-D pooling use the reference kernels.
struct FastPooling: Sendable {
    /// The window geometry as a one-channel correlation over `batch = planes`.
    let shape: ConvShape2D
    let isMax: Bool
    let divisor: AvgDivisor
    /// Per output row / column: the divisor factors of average pooling.
    let rowFactor: [Int]
    let columnFactor: [Int]

    init?(planes: Int, windows: Windows3D, reduction: PoolingPlan.Reduction) {
        let channels = ConvChannels(batch: planes, inChannels: 1, outChannels: 1, groups: 1)
        guard let shape = ConvShape2D(channels, windows), !shape.isEmpty,
              shape.inPlane < Int(Int32.max) / 2, MemoryLayout<Int>.size == 8 else { return nil }
        let (h, w) = (windows.axes[1], windows.axes[2])
        // Every window must hold an input element (the reference's empty-window rules stay there).
        guard (0..<h.outputSize).allSatisfy({ !h.taps($0).isEmpty }),
              (0..<w.outputSize).allSatisfy({ !w.taps($0).isEmpty }) else { return nil }
        self.shape = shape
        switch reduction {
        case .max:
            isMax = true
            divisor = .validCount
            rowFactor = []
            columnFactor = []
        case let .average(rule):
            isMax = false
            divisor = rule
            switch rule {
            case .fixed:
                rowFactor = Array(repeating: 1, count: h.outputSize)
                columnFactor = Array(repeating: 1, count: w.outputSize)
            case .validCount:
                rowFactor = (0..<h.outputSize).map { h.taps($0).count }
                columnFactor = (0..<w.outputSize).map { w.taps($0).count }
            case .includePadding:
                rowFactor = (0..<h.outputSize).map { h.paddedExtent[$0] }
                columnFactor = (0..<w.outputSize).map { w.paddedExtent[$0] }
            }
        }
    }

    /// The divisor of output `(oy, ox)` as the reference computes it.
    @inline(__always)
    private func divisorValue(_ oy: Int, _ ox: Int) -> Float {
        if case let .fixed(value) = divisor { return Float(value) }
        return Float(rowFactor[oy] * columnFactor[ox])
    }

    private func source(nr: Int) -> PhaseSplitSource {
        var source = FastConvolution(shape: shape, algorithm: .gemm).forwardSource(nr: nr)
        source.padValue = isMax ? -.infinity : 0
        return source
    }

    private func tapOffsets(_ source: PhaseSplitSource) -> [Int] {
        var offsets: [Int] = []
        for kh in 0..<shape.kH {
            for kw in 0..<shape.kW {
                offsets.append(source.offset(channel: 0, dyRaw: kh * shape.dilationH, dxRaw: kw * shape.dilationW))
            }
        }
        return offsets
    }

    func maxForward(input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                    indices: UnsafeMutablePointer<Int>?, kernels: KernelTable) {
        let s = shape
        if indices == nil, let inPlace = DepthwiseConvolution.inPlaceKernels(s, kernels) {
            // 3 × 3 windows (ResNet's stem pooling) straight from the planes, without argmax.
            let max3x3 = inPlace.max3x3
            parallelFor(s.batch) { range, _ in
                max3x3(x + range.lowerBound * s.inPlane, s.inH, s.inW, s.strideW, s.padTop, s.outH, s.outW,
                       y + range.lowerBound * s.outPlane, range.count)
            }
            return
        }
        if s.kH == 2 && s.kW == 2 && s.strideH == 2 && s.strideW == 2 && s.dilationH == 1 && s.dilationW == 1
            && s.padTop == 0 && s.padLeft == 0 && 2 * s.outH <= s.inH && 2 * s.outW <= s.inW && s.inPlane < Int(Int32.max) {
            // 2 × 2 windows at stride 2 (LeNet's and VGG's pooling) straight from the planes, with
            // the widest vectors that fit the output rows (13 columns: AVX2's 8 on an AVX-512 CPU).
            let max2x2 = KernelTable.widest(atMost: s.outW, below: kernels).max2x2
            parallelFor(s.batch) { range, _ in
                for p in range {
                    let ind = indices.map { UnsafeMutableRawPointer($0 + p * s.outPlane).assumingMemoryBound(to: Int64.self) }
                    max2x2(x + p * s.inPlane, s.inW, s.outH, s.outW, y + p * s.outPlane, ind)
                }
            }
            return
        }
        let source = source(nr: kernels.nr)
        let offsets = tapOffsets(source)
        let pitch = source.pitch
        // Plane index of tap (kh, kw) at grid position (oy, ox): base + toff; the window's first
        // element in row-major order: first.
        var toff: [Int32] = []
        for kh in 0..<s.kH { for kw in 0..<s.kW { toff.append(Int32(kh * s.dilationH * s.inW + kw * s.dilationW)) } }
        let gridCount = (s.outH * pitch + 4 * kernels.vw - 1) / (4 * kernels.vw) * (4 * kernels.vw)
        var base = [Int32](repeating: 0, count: gridCount)
        var first = [Int32](repeating: 0, count: gridCount)
        func firstTap(_ start: Int, _ dilation: Int, _ kernel: Int, _ size: Int) -> Int {
            for k in 0..<kernel where start + k * dilation >= 0 && start + k * dilation < size { return start + k * dilation }
            return max(start, 0)
        }
        for oy in 0..<s.outH {
            let iy = oy * s.strideH - s.padTop
            let fy = firstTap(iy, s.dilationH, s.kH, s.inH)
            for ox in 0..<s.outW {
                let ix = ox * s.strideW - s.padLeft
                base[oy * pitch + ox] = Int32(iy * s.inW + ix)
                first[oy * pitch + ox] = Int32(fy * s.inW + firstTap(ix, s.dilationW, s.kW, s.inW))
            }
        }
        let maxPool = kernels.maxPool
        offsets.withUnsafeBufferPointer { offsets in toff.withUnsafeBufferPointer { toff in
        base.withUnsafeBufferPointer { base in first.withUnsafeBufferPointer { first in
            source.forEachPlane(s.batch, overread: pitch + 8 * kernels.vw, plane: { x + $0 * s.inPlane }) { p, plane in
                let ind = indices.map { UnsafeMutableRawPointer($0 + p * s.outPlane).assumingMemoryBound(to: Int64.self) }
                maxPool(plane, offsets.baseAddress, toff.baseAddress, s.kernelArea, base.baseAddress, first.baseAddress,
                        s.outH, pitch, s.outW, y + p * s.outPlane, ind)
            }
        } } } }
    }

    func maxBackward(gradOutput g: UnsafePointer<Float>, indices: UnsafePointer<Int>, gradInput gx: UnsafeMutablePointer<Float>) {
        let s = shape
        parallelFor(s.batch, grain: 4) { range, _ in
            for p in range {
                let dst = gx + p * s.inPlane, src = g + p * s.outPlane, ind = indices + p * s.outPlane
                dst.initialize(repeating: 0, count: s.inPlane)
                for o in 0..<s.outPlane { dst[ind[o]] += src[o] }
            }
        }
    }

    func averageForward(input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape
        let source = source(nr: kernels.nr)
        let offsets = tapOffsets(source)
        let ones = [Float](repeating: 1, count: s.kernelArea)
        let windowSum = kernels.windowSum
        let pooling = self
        offsets.withUnsafeBufferPointer { offsets in ones.withUnsafeBufferPointer { ones in
            source.forEachPlane(s.batch, overread: source.pitch + 8 * kernels.vw, plane: { x + $0 * s.inPlane }) { p, plane in
                let out = y + p * s.outPlane
                windowSum(plane, offsets.baseAddress, ones.baseAddress, s.kernelArea, 0, s.outH, source.pitch, s.outW,
                          out, s.outW, 1)
                for oy in 0..<s.outH {
                    for ox in 0..<s.outW { out[oy * s.outW + ox] /= pooling.divisorValue(oy, ox) }
                }
            }
        } }
    }

    func averageBackward(gradOutput g: UnsafePointer<Float>, gradInput gx: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape
        let phases = StridePhases(shape: s)
        let source = phases.outputGradientSource(shape: s, channels: 1, nr: kernels.nr)
        var tapOffsets: [[Int]] = []
        for phase in phases.phases {
            tapOffsets.append(phase.taps.map { source.offset(channel: 0, dyRaw: $0.oy - phases.lowY, dxRaw: $0.ox - phases.lowX) })
        }
        let ones = [Float](repeating: 1, count: max(s.kernelArea, 1))
        let scratchCount = source.channelStride + source.pitch + 8 * kernels.vw
        let windowSum = kernels.windowSum
        let pooling = self
        ones.withUnsafeBufferPointer { ones in
            parallelFor(s.batch) { range, scratch in
                scratch.reset()
                scratch.reserve(floats: scratchCount + s.outPlane)
                let plane = scratch.floats(scratchCount)
                let share = scratch.floats(s.outPlane)
                fillFloats(plane, 0, scratchCount)
                for p in range {
                    let src = g + p * s.outPlane
                    for oy in 0..<s.outH {
                        for ox in 0..<s.outW { share[oy * s.outW + ox] = src[oy * s.outW + ox] / pooling.divisorValue(oy, ox) }
                    }
                    source.fillChannel(plane, from: share, interiorOnly: true)
                    let out = gx + p * s.inPlane
                    for (index, phase) in phases.phases.enumerated() {
                        tapOffsets[index].withUnsafeBufferPointer { offsets in
                            windowSum(plane, offsets.baseAddress, ones.baseAddress, offsets.count, 0, phase.gridH,
                                      source.pitch, phase.gridW, out + phase.ry * s.inW + phase.rx,
                                      s.strideH * s.inW, s.strideW)
                        }
                    }
                }
            }
        }
    }
}
