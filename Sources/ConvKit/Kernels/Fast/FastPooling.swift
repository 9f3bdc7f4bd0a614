/// Fast `Float` pooling: the reference kernels' arithmetic (same window order, same tie and NaN
/// rules, same divisors) with raw pointers, windows as arithmetic progressions instead of tap
/// tables, and planes split statically over the worker pool — so results match the reference
/// bit for bit and do not depend on the thread count.
struct FastPooling {
    /// Per axis and output index: the first input position, how many, and the step between them.
    private struct Runs {
        var first: [Int] = [], count: [Int] = [], step: [Int] = []
        init(_ axis: WindowAxis) {
            for o in 0..<axis.outputSize {
                let taps = axis.taps(o)
                first.append(taps.isEmpty ? 0 : axis.position[taps.lowerBound])
                count.append(taps.count)
                step.append(taps.count > 1 ? axis.position[taps.lowerBound + 1] - axis.position[taps.lowerBound] : 1)
            }
        }
    }

    let planes: Int
    let windows: Windows3D
    private let runs: [Runs]

    /// 2×2 windows with stride 2 over a 2-D plane (the common downsampling): a dedicated loop.
    private let isPlain2x2: Bool

    init(planes: Int, windows: Windows3D) {
        self.planes = planes
        self.windows = windows
        runs = windows.axes.map(Runs.init)
        isPlain2x2 = windows.axes[0].inputSize == 1 && windows.axes[0].outputSize == 1
            && runs[1...].allSatisfy { r in r.first.indices.allSatisfy { r.first[$0] == 2 * $0 && r.count[$0] == 2 && r.step[$0] == 1 } }
    }

    /// Calls `body(outputIndexInPlane, d0, dn, ds, h0, hn, hs, w0, wn, ws)` for every output of a plane.
    @inline(__always)
    private func forEachWindow(_ body: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) -> Void) {
        let (rd, rh, rw) = (runs[0], runs[1], runs[2])
        var o = 0
        for od in rd.first.indices {
            for oh in rh.first.indices {
                for ow in rw.first.indices {
                    body(o, rd.first[od], rd.count[od], rd.step[od], rh.first[oh], rh.count[oh], rh.step[oh],
                         rw.first[ow], rw.count[ow], rw.step[ow])
                    o += 1
                }
            }
        }
    }

    func maxForward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>) {
        let inPlane = windows.inputPlane, outPlane = windows.outputPlane
        let height = windows.axes[1].inputSize, width = windows.axes[2].inputSize
        if isPlain2x2 {
            return maxForward2x2(input: input, output: output, indices: indices)
        }
        parallelFor(planes) { range, _ in
            for plane in range {
                let x = input + plane * inPlane, y = output + plane * outPlane, index = indices + plane * outPlane
                forEachWindow { o, d0, dn, ds, h0, hn, hs, w0, wn, ws in
                    var best = -Float.infinity, bestIndex = (d0 * height + h0) * width + w0
                    for a in 0..<dn {
                        for b in 0..<hn {
                            let row = ((d0 + a * ds) * height + h0 + b * hs) * width + w0
                            for c in 0..<wn {
                                let i = row + c * ws, v = x[i]
                                if v > best || v.isNaN { best = v; bestIndex = i }
                            }
                        }
                    }
                    y[o] = best
                    index[o] = bestIndex
                }
            }
        }
    }

    /// ``maxForward(input:output:indices:)`` for 2×2 windows at stride 2: the same comparisons in the same order.
    private func maxForward2x2(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>) {
        let width = windows.axes[2].inputSize, height = windows.axes[1].inputSize
        let outHeight = windows.axes[1].outputSize, outWidth = windows.axes[2].outputSize
        parallelFor(planes) { range, _ in
            for plane in range {
                let x = input + plane * height * width
                var o = plane * outHeight * outWidth
                for oh in 0..<outHeight {
                    let top = 2 * oh * width
                    for ow in 0..<outWidth {
                        let i = top + 2 * ow
                        var best = -Float.infinity, bestIndex = i
                        @inline(__always) func visit(_ j: Int) {
                            if x[j] > best || x[j].isNaN { best = x[j]; bestIndex = j }
                        }
                        visit(i); visit(i + 1); visit(i + width); visit(i + width + 1)
                        output[o] = best
                        indices[o] = bestIndex
                        o += 1
                    }
                }
            }
        }
    }

    func maxBackward(gradOutput: UnsafePointer<Float>, indices: UnsafePointer<Int>, gradInput: UnsafeMutablePointer<Float>) {
        let inPlane = windows.inputPlane, outPlane = windows.outputPlane
        parallelFor(planes) { range, _ in
            for plane in range {
                let g = gradInput + plane * inPlane
                g.update(repeating: 0, count: inPlane)
                for o in 0..<outPlane { g[indices[plane * outPlane + o]] += gradOutput[plane * outPlane + o] }
            }
        }
    }

    /// The divisor of every output of a plane (0 for an empty window).
    private func divisors(_ rule: AvgDivisor) -> [Float] {
        var result: [Float] = []
        result.reserveCapacity(windows.outputPlane)
        for od in 0..<windows.axes[0].outputSize {
            for oh in 0..<windows.axes[1].outputSize {
                for ow in 0..<windows.axes[2].outputSize {
                    result.append(Float(ReferencePooling.divisor(windows, rule, od, oh, ow)))
                }
            }
        }
        return result
    }

    func avgForward(divisor rule: AvgDivisor, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let inPlane = windows.inputPlane, outPlane = windows.outputPlane
        let height = windows.axes[1].inputSize, width = windows.axes[2].inputSize
        let divisors = divisors(rule)
        parallelFor(planes) { range, _ in
            for plane in range {
                let x = input + plane * inPlane, y = output + plane * outPlane
                forEachWindow { o, d0, dn, ds, h0, hn, hs, w0, wn, ws in
                    guard divisors[o] != 0 else { y[o] = 0; return }
                    var sum: Float = 0
                    for a in 0..<dn {
                        for b in 0..<hn {
                            let row = ((d0 + a * ds) * height + h0 + b * hs) * width + w0
                            for c in 0..<wn { sum += x[row + c * ws] }
                        }
                    }
                    y[o] = sum / divisors[o]
                }
            }
        }
    }

    func avgBackward(divisor rule: AvgDivisor, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let inPlane = windows.inputPlane, outPlane = windows.outputPlane
        let height = windows.axes[1].inputSize, width = windows.axes[2].inputSize
        let divisors = divisors(rule)
        parallelFor(planes) { range, _ in
            for plane in range {
                let g = gradInput + plane * inPlane, gy = gradOutput + plane * outPlane
                g.update(repeating: 0, count: inPlane)
                forEachWindow { o, d0, dn, ds, h0, hn, hs, w0, wn, ws in
                    guard divisors[o] != 0 else { return }
                    let share = gy[o] / divisors[o]
                    for a in 0..<dn {
                        for b in 0..<hn {
                            let row = ((d0 + a * ds) * height + h0 + b * hs) * width + w0
                            for c in 0..<wn { g[row + c * ws] += share }
                        }
                    }
                }
            }
        }
    }
}
