import CConvKitKernels

/// Depthwise correlation (one input channel per group, `C_out/C_in` outputs per input channel)
/// with the window kernels. The 3 × 3 layers of MobileNets (stride 1 or 2, left padding 1) read
/// each input plane in place (``readsInPlace(_:vw:)``); otherwise each input plane is copied once
/// into a zero-padded, stride-phase-split scratch plane (``PhaseSplitSource``), in which every tap
/// is one contiguous run, and each output plane of that channel is a weighted sum of those runs.
/// Work is split over `(image, input channel)` planes.
///
/// The input gradient is the same window sum over the padded output gradient, per stride phase of
/// the input, with the taps that reach the phase. The weight gradient is a dot product of each
/// tap's run with the output gradient (laid out on the same grid), summed over images in order by
/// the thread that owns the channel.
struct DepthwiseConvolution {
    let shape: ConvShape2D

    private var multiplier: Int { shape.outPerGroup }

    /// Tap offsets of the forward pass in one channel of `source`.
    private func forwardTaps(_ source: PhaseSplitSource) -> [Int] {
        let s = shape
        var offsets: [Int] = []
        for kh in 0..<s.kH {
            for kw in 0..<s.kW {
                offsets.append(source.offset(channel: 0, dyRaw: kh * s.dilationH, dxRaw: kw * s.dilationW))
            }
        }
        return offsets
    }

    /// Scratch floats for one channel of `source`: the channel plus over-read room.
    private static func channelScratch(_ source: PhaseSplitSource, vw: Int) -> Int {
        source.channelStride + source.pitch + 8 * vw
    }

    /// Whether the forward pass reads the input planes in place with the 3 × 3 kernel (stride 1
    /// or 2, left padding 1, at least one vector of output columns, or at stride 1 with padding 1
    /// all round a plane of at least one vector read as one run) instead of through a padded,
    /// phase-split copy (a quarter of a stride-1 layer's time, half of a stride-2 one's).
    static func readsInPlace(_ s: ConvShape2D, vw: Int) -> Bool {
        guard s.kH == 3 && s.kW == 3 && s.dilationH == 1 && s.dilationW == 1 && s.padLeft == 1 else { return false }
        switch (s.strideH, s.strideW) {
        case (1, 1):
            return min(s.outW, s.inW) >= vw
                || ck_window3x3_reads_flat(vw, s.inH, s.inW, 1, s.padTop, s.outH, s.outW) != 0
        case (2, 2): return s.outW >= vw && s.inW >= 2 * vw
        default: return false
        }
    }

    /// The kernels that read `s` in place: `kernels` when its vectors fit the rows or the plane,
    /// otherwise the widest level below it whose vectors do (where a padded copy would cost more
    /// than the narrower vectors), or nil.
    static func inPlaceKernels(_ s: ConvShape2D, _ kernels: KernelTable) -> KernelTable? {
        kernels.firstLevel { readsInPlace(s, vw: $0.vw) }
    }

    func forward(input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output y: UnsafeMutablePointer<Float>, kernels: KernelTable, activation: FusedActivation? = nil) {
        let s = shape, mult = multiplier, area = s.kernelArea
        if let inPlace = Self.inPlaceKernels(s, kernels) {
            let depthwise3x3 = inPlace.depthwise3x3
            // Output channels oc of image n from input plane item, in runs of `count` planes.
            func run(_ item: Int, _ n: Int, _ oc: Int, _ count: Int) {
                let out = y + (n * s.outChannels + oc) * s.outPlane
                depthwise3x3(x + item * s.inPlane, s.inH, s.inW, s.strideW, s.padTop, w + oc * area, bias.map { $0 + oc },
                             s.outH, s.outW, out, count)
                activation?.apply(out, count: count * s.outPlane)
            }
            parallelFor(s.batch * s.inChannels) { range, _ in
                var item = range.lowerBound
                while item < range.upperBound {
                    let n = item / s.inChannels, c = item % s.inChannels
                    if mult == 1 {
                        // One call for the planes of this image in the range.
                        let count = min(range.upperBound - item, s.inChannels - c)
                        run(item, n, c, count)
                        item += count
                    } else {
                        for m in 0..<mult { run(item, n, c * mult + m, 1) }
                        item += 1
                    }
                }
            }
            return
        }
        let source = FastConvolution(shape: s, algorithm: .gemm).forwardSource(nr: kernels.nr)
        let taps = forwardTaps(source)
        let windowSum = kernels.windowSum
        taps.withUnsafeBufferPointer { taps in
            source.forEachPlane(s.batch * s.inChannels, overread: source.pitch + 8 * kernels.vw,
                                plane: { x + $0 * s.inPlane }) { item, plane in
                let n = item / s.inChannels, c = item % s.inChannels
                for m in 0..<mult {
                    let oc = c * mult + m
                    let out = y + (n * s.outChannels + oc) * s.outPlane
                    windowSum(plane, taps.baseAddress, w + oc * area, area, bias?[oc] ?? 0,
                              s.outH, source.pitch, s.outW, out, s.outW, 1)
                    activation?.apply(out, count: s.outPlane)
                }
            }
        }
    }

    func backwardInput(gradOutput gy: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                       gradInput gx: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape, mult = multiplier, area = s.kernelArea
        let phases = StridePhases(shape: s)
        // The `mult` output-gradient planes of an input channel, zero-padded for every phase's taps.
        let source = phases.outputGradientSource(shape: s, channels: mult, nr: kernels.nr)
        let scratchCount = mult * source.channelStride + source.pitch + 8 * kernels.vw
        // Per phase: tap offsets into the stacked planes, and the weight index of each tap.
        var tapOffsets: [[Int]] = [], tapWeights: [[Int]] = []
        for phase in phases.phases {
            var offsets: [Int] = [], weights: [Int] = []
            for m in 0..<mult {
                for tap in phase.taps {
                    offsets.append(source.offset(channel: m, dyRaw: tap.oy - phases.lowY, dxRaw: tap.ox - phases.lowX))
                    weights.append(m * area + tap.kh * s.kW + tap.kw)
                }
            }
            tapOffsets.append(offsets)
            tapWeights.append(weights)
        }
        let windowSum = kernels.windowSum
        let maxTaps = max(tapWeights.map(\.count).max() ?? 0, 1)
        parallelFor(s.batch * s.inChannels) { range, scratch in
            scratch.reset()
            scratch.reserve(floats: scratchCount + maxTaps)
            let planes = scratch.floats(scratchCount)
            let weights = scratch.floats(maxTaps)
            fillFloats(planes, 0, scratchCount)
            for item in range {
                let n = item / s.inChannels, c = item % s.inChannels
                for m in 0..<mult {
                    source.fillChannel(planes + m * source.channelStride,
                                       from: gy + (n * s.outChannels + c * mult + m) * s.outPlane, interiorOnly: true)
                }
                let out = gx + item * s.inPlane
                for (index, phase) in phases.phases.enumerated() {
                    let tw = tapWeights[index]
                    for t in 0..<tw.count { weights[t] = w[c * mult * area + tw[t]] }
                    tapOffsets[index].withUnsafeBufferPointer { offsets in
                        windowSum(planes, offsets.baseAddress, weights, tw.count, 0, phase.gridH, source.pitch,
                                  phase.gridW, out + phase.ry * s.inW + phase.rx, s.strideH * s.inW, s.strideW)
                    }
                }
            }
        }
    }

    func backwardWeight(gradOutput gy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        gradWeight gw: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape, mult = multiplier, area = s.kernelArea
        let source = FastConvolution(shape: s, algorithm: .gemm).forwardSource(nr: kernels.nr)
        let taps = forwardTaps(source)
        let scratchCount = Self.channelScratch(source, vw: kernels.vw)
        let positions = s.outH * source.pitch
        let gridCount = (positions + kernels.vw - 1) / kernels.vw * kernels.vw
        let windowDot = kernels.windowDot
        taps.withUnsafeBufferPointer { taps in
            parallelFor(s.inChannels) { range, scratch in
                scratch.reset()
                scratch.reserve(floats: scratchCount + gridCount)
                let plane = scratch.floats(scratchCount)
                let grid = scratch.floats(gridCount)
                fillFloats(plane, 0, scratchCount)
                fillFloats(grid, 0, gridCount)
                for c in range {
                    (gw + c * mult * area).initialize(repeating: 0, count: mult * area)
                    for n in 0..<s.batch {
                        source.fillChannel(plane, from: x + (n * s.inChannels + c) * s.inPlane, interiorOnly: true)
                        for m in 0..<mult {
                            let oc = c * mult + m
                            let g = gy + (n * s.outChannels + oc) * s.outPlane
                            for oy in 0..<s.outH {
                                (grid + oy * source.pitch).update(from: g + oy * s.outW, count: s.outW)
                            }
                            windowDot(plane, taps.baseAddress, area, grid, gridCount, gw + oc * area)
                        }
                    }
                }
            }
        }
    }
}

/// The stride phases of an input gradient: input positions `(ry + i·s_h, rx + j·s_w)` receive
/// only the taps with `(r + pad − k·d) ≡ 0 (mod s)`, which read output-gradient row `i + oy`,
/// column `j + ox` (stride 1). Stride 1 is one phase with every tap.
struct StridePhases {
    struct Phase {
        var ry = 0, rx = 0
        var gridH = 0, gridW = 0
        var taps: [(kh: Int, kw: Int, oy: Int, ox: Int)] = []
    }

    let phases: [Phase]
    /// The smallest and largest tap offsets over all phases (lows ≤ 0), and the largest grid.
    let lowY: Int, highY: Int, lowX: Int, highX: Int
    let gridH: Int, gridW: Int

    init(shape s: ConvShape2D) {
        func axis(_ residue: Int, kernel: Int, pad: Int, dilation: Int, stride: Int) -> [(Int, Int)] {
            (0..<kernel).compactMap { k in
                let shift = residue + pad - k * dilation
                return ((shift % stride) + stride) % stride == 0 ? (k, shift / stride) : nil
            }
        }
        var phases: [Phase] = []
        for ry in 0..<min(s.strideH, s.inH) {
            let rows = axis(ry, kernel: s.kH, pad: s.padTop, dilation: s.dilationH, stride: s.strideH)
            for rx in 0..<min(s.strideW, s.inW) {
                let cols = axis(rx, kernel: s.kW, pad: s.padLeft, dilation: s.dilationW, stride: s.strideW)
                var phase = Phase(ry: ry, rx: rx, gridH: (s.inH - ry + s.strideH - 1) / s.strideH,
                                  gridW: (s.inW - rx + s.strideW - 1) / s.strideW)
                for (kh, oy) in rows { for (kw, ox) in cols { phase.taps.append((kh, kw, oy, ox)) } }
                phases.append(phase)
            }
        }
        var lowY = 0, highY = 0, lowX = 0, highX = 0, gridH = 0, gridW = 0
        for phase in phases {
            gridH = max(gridH, phase.gridH); gridW = max(gridW, phase.gridW)
            for tap in phase.taps {
                lowY = min(lowY, tap.oy); highY = max(highY, tap.oy)
                lowX = min(lowX, tap.ox); highX = max(highX, tap.ox)
            }
        }
        self.phases = phases
        (self.lowY, self.highY, self.lowX, self.highX) = (lowY, highY, lowX, highX)
        (self.gridH, self.gridW) = (gridH, gridW)
    }

    /// The output gradient (`channels` planes per image), zero-padded so that every tap of every
    /// phase reads inside it: tap `(oy, ox)` is `offset(channel:dyRaw: oy − lowY, dxRaw: ox − lowX)`.
    func outputGradientSource(shape s: ConvShape2D, channels: Int, nr: Int) -> PhaseSplitSource {
        let pitch = gridW + (highX - lowX)
        return PhaseSplitSource(channels: channels, srcH: s.outH, srcW: s.outW, sy: 1, sx: 1, top: -lowY, left: -lowX,
                                phaseY: [0], phaseX: [0], rows: gridH + (highY - lowY), pitch: pitch,
                                slack: pitch + 2 * nr)
    }
}
