import CConvKitKernels

/// Depthwise correlation (one input channel per group, `C_out/C_in` outputs per input channel)
/// with the sliding-window kernels: each input plane is copied once into a zero-padded scratch
/// plane (so the kernel needs no bounds checks), then every output plane of that channel is a
/// weighted window sum of it. Work is split over `(image, input channel)` planes.
///
/// The input gradient is a window sum of the (padded) output gradient per stride phase, with the
/// taps that reach the phase; the weight gradient is a window dot product per plane, summed over
/// images in order by the thread that owns the channel.
struct DepthwiseConvolution {
    let shape: ConvShape2D

    private var multiplier: Int { shape.outPerGroup }

    private static func roundUp(_ x: Int, _ m: Int) -> Int { (x + m - 1) / m * m }

    /// A zero-padded copy of a `h × w` plane: `top` rows and `left` columns before it, `rows × ld` in all.
    private struct PaddedPlane {
        let top: Int, left: Int, rows: Int, ld: Int
        var count: Int { rows * ld }

        func fill(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, h: Int, w: Int, value: Float = 0) {
            let first = max(top, 0), last = min(top + h, rows)   // buffer rows holding source rows
            if first > 0 { dst.initialize(repeating: value, count: first * ld) }
            for r in first..<max(first, last) {
                let line = dst + r * ld
                let s = src + (r - top) * w
                if left > 0 { line.initialize(repeating: value, count: left) }
                (line + left).initialize(from: s, count: w)
                let tail = ld - left - w
                if tail > 0 { (line + left + w).initialize(repeating: value, count: tail) }
            }
            if last < rows { (dst + max(first, last) * ld).initialize(repeating: value, count: (rows - max(first, last)) * ld) }
        }
    }

    /// Layout of the forward input plane (padding `padTop`/`padLeft`, room for every tap and vector over-read).
    private func forwardPlane(vw: Int) -> PaddedPlane {
        let s = shape
        let rows = max(s.padTop + s.inH, (s.outH - 1) * s.strideH + (s.kH - 1) * s.dilationH + 1)
        let ld = max(s.padLeft + s.inW, Self.roundUp(s.outW, vw) * s.strideW + (s.kW - 1) * s.dilationW)
        return PaddedPlane(top: s.padTop, left: s.padLeft, rows: rows, ld: ld)
    }

    private func forwardTaps(ld: Int) -> (ty: [Int], tx: [Int]) {
        let s = shape
        var ty: [Int] = [], tx: [Int] = []
        for kh in 0..<s.kH {
            for kw in 0..<s.kW {
                ty.append(kh * s.dilationH)
                tx.append(kw * s.dilationW)
            }
        }
        return (ty, tx)
    }

    func forward(input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output y: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape, mult = multiplier, area = s.kernelArea
        let layout = forwardPlane(vw: kernels.vw)
        let (ty, tx) = forwardTaps(ld: layout.ld)
        let windowSum = kernels.windowSum
        ty.withUnsafeBufferPointer { ty in tx.withUnsafeBufferPointer { tx in
            parallelFor(s.batch * s.inChannels) { range, scratch in
                scratch.reset()
                scratch.reserve(floats: layout.count)
                let plane = scratch.floats(layout.count)
                for item in range {
                    let n = item / s.inChannels, c = item % s.inChannels
                    layout.fill(plane, from: x + item * s.inPlane, h: s.inH, w: s.inW)
                    for m in 0..<mult {
                        let oc = c * mult + m
                        windowSum(plane, layout.ld, s.strideH, s.strideW, ty.baseAddress, tx.baseAddress,
                                  w + oc * area, area, bias?[oc] ?? 0,
                                  y + (n * s.outChannels + oc) * s.outPlane, s.outH, s.outW, s.outW, 1)
                    }
                }
            }
        } }
    }

    func backwardInput(gradOutput gy: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                       gradInput gx: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape, mult = multiplier, area = s.kernelArea
        // Stride phases (see GemmGradients): taps reaching input rows ≡ ry (mod s_h), read at row i + oy.
        struct Phase { var ry = 0, rx = 0, gridH = 0, gridW = 0; var taps: [(kh: Int, kw: Int, oy: Int, ox: Int)] = [] }
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
        // One padded buffer holds the `mult` output-gradient planes of an input channel, stacked.
        var lowY = 0, highY = s.outH, lowX = 0, highX = s.outW, widest = 0
        for phase in phases {
            widest = max(widest, phase.gridW)
            for tap in phase.taps {
                lowY = min(lowY, tap.oy); highY = max(highY, phase.gridH + tap.oy)
                lowX = min(lowX, tap.ox); highX = max(highX, phase.gridW + tap.ox)
            }
        }
        let rows = highY - lowY
        let ld = max(highX - lowX, Self.roundUp(widest, kernels.vw) + (highX - lowX))
        let layout = PaddedPlane(top: -lowY, left: -lowX, rows: rows, ld: ld)
        // Per phase: tap offsets into the stacked buffer, and the weight index of each tap.
        var tapY: [[Int]] = [], tapX: [[Int]] = [], tapW: [[Int]] = []
        for phase in phases {
            var ty: [Int] = [], tx: [Int] = [], tw: [Int] = []
            for m in 0..<mult {
                for tap in phase.taps {
                    ty.append(tap.oy - lowY + m * rows)
                    tx.append(tap.ox - lowX)
                    tw.append(m * area + tap.kh * s.kW + tap.kw)
                }
            }
            tapY.append(ty); tapX.append(tx); tapW.append(tw)
        }
        let windowSum = kernels.windowSum
        let maxTaps = tapW.map(\.count).max() ?? 0
        parallelFor(s.batch * s.inChannels) { range, scratch in
            scratch.reset()
            scratch.reserve(floats: mult * layout.count + maxTaps)
            let planes = scratch.floats(mult * layout.count)
            let weights = scratch.floats(max(maxTaps, 1))
            for item in range {
                let n = item / s.inChannels, c = item % s.inChannels
                for m in 0..<mult {
                    layout.fill(planes + m * layout.count, from: gy + (n * s.outChannels + c * mult + m) * s.outPlane,
                                h: s.outH, w: s.outW)
                }
                let out = gx + item * s.inPlane
                for (index, phase) in phases.enumerated() {
                    let tw = tapW[index]
                    for t in 0..<tw.count { weights[t] = w[c * mult * area + tw[t]] }
                    tapY[index].withUnsafeBufferPointer { ty in tapX[index].withUnsafeBufferPointer { tx in
                        windowSum(planes, ld, 1, 1, ty.baseAddress, tx.baseAddress, weights, tw.count, 0,
                                  out + phase.ry * s.inW + phase.rx, phase.gridH, phase.gridW,
                                  s.strideH * s.inW, s.strideW)
                    } }
                }
            }
        }
    }

    func backwardWeight(gradOutput gy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        gradWeight gw: UnsafeMutablePointer<Float>, kernels: KernelTable) {
        let s = shape, mult = multiplier, area = s.kernelArea
        let layout = forwardPlane(vw: kernels.vw)
        let (ty, tx) = forwardTaps(ld: layout.ld)
        let windowDot = kernels.windowDot
        ty.withUnsafeBufferPointer { ty in tx.withUnsafeBufferPointer { tx in
            parallelFor(s.inChannels) { range, scratch in
                scratch.reset()
                scratch.reserve(floats: layout.count)
                let plane = scratch.floats(layout.count)
                for c in range {
                    (gw + c * mult * area).initialize(repeating: 0, count: mult * area)
                    for n in 0..<s.batch {
                        layout.fill(plane, from: x + (n * s.inChannels + c) * s.inPlane, h: s.inH, w: s.inW)
                        for m in 0..<mult {
                            let oc = c * mult + m
                            windowDot(plane, layout.ld, s.strideH, s.strideW, ty.baseAddress, tx.baseAddress, area,
                                      gy + (n * s.outChannels + oc) * s.outPlane, s.outW, s.outH, s.outW,
                                      gw + oc * area)
                        }
                    }
                }
            }
        } }
    }
}
