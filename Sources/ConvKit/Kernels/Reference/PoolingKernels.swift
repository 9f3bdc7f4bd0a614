/// What average pooling divides each window's sum by.
enum AvgDivisor: Sendable, Equatable {
    /// `divisor_override`.
    case fixed(Int)
    /// The window clipped to the padded input (`count_include_pad=True`).
    case includePadding
    /// The number of input elements in the window (`count_include_pad=False`, adaptive pooling).
    case validCount
}

/// Reference max and average pooling over `planes = N·C` independent planes of `windows.inputPlane`
/// elements. Max-pooling indices are flat positions within a plane (`d·H·W + h·W + w`), as PyTorch's.
enum ReferencePooling {
    /// Calls `body(outputIndex, od, oh, ow)` for each output element, with `planeBase` its plane's offset.
    @inline(__always)
    static func forEachOutput(planes: Int, _ windows: Windows3D, _ body: (_ plane: Int, _ out: Int, Int, Int, Int) -> Void) {
        var out = 0
        for plane in 0..<planes {
            for od in 0..<windows.axes[0].outputSize {
                for oh in 0..<windows.axes[1].outputSize {
                    for ow in 0..<windows.axes[2].outputSize {
                        body(plane, out, od, oh, ow)
                        out += 1
                    }
                }
            }
        }
    }

    /// Calls `body(index)` for each in-plane input index of the window of output `(od, oh, ow)`, in
    /// row-major order.
    @inline(__always)
    static func forEachInput(_ windows: Windows3D, _ od: Int, _ oh: Int, _ ow: Int, _ body: (Int) -> Void) {
        let (a0, a1, a2) = (windows.axes[0], windows.axes[1], windows.axes[2])
        for td in a0.taps(od) {
            let d = a0.position[td] * a1.inputSize
            for th in a1.taps(oh) {
                let h = (d + a1.position[th]) * a2.inputSize
                for tw in a2.taps(ow) { body(h + a2.position[tw]) }
            }
        }
    }

    /// Max over each window; `indices` receives the argmax. As PyTorch, the first maximum wins and
    /// NaN propagates; an all −∞ window reports its first element.
    static func maxForward<T: BinaryFloatingPoint>(
        planes: Int, _ windows: Windows3D, input: UnsafeBufferPointer<T>,
        output: UnsafeMutableBufferPointer<T>, indices: UnsafeMutableBufferPointer<Int>
    ) {
        let inPlane = windows.inputPlane
        forEachOutput(planes: planes, windows) { plane, out, od, oh, ow in
            let base = plane * inPlane
            var best = -T.infinity
            var bestIndex = -1
            forEachInput(windows, od, oh, ow) { i in
                let value = input[base + i]
                if bestIndex < 0 { bestIndex = i }
                if value > best || value.isNaN {
                    best = value
                    bestIndex = i
                }
            }
            output[out] = best
            indices[out] = max(bestIndex, 0)
        }
    }

    /// Routes each output gradient to its argmax. `gradInput` is overwritten.
    static func maxBackward<T: BinaryFloatingPoint>(
        planes: Int, inputPlane: Int, outputPlane: Int, gradOutput: UnsafeBufferPointer<T>,
        indices: UnsafeBufferPointer<Int>, gradInput: UnsafeMutableBufferPointer<T>
    ) {
        gradInput.update(repeating: 0)
        for plane in 0..<planes {
            for o in 0..<outputPlane {
                let out = plane * outputPlane + o
                gradInput[plane * inputPlane + indices[out]] += gradOutput[out]
            }
        }
    }

    /// The divisor of output `(od, oh, ow)`, or 0 for a window with no input element.
    @inline(__always)
    static func divisor(_ windows: Windows3D, _ rule: AvgDivisor, _ od: Int, _ oh: Int, _ ow: Int) -> Int {
        let (a0, a1, a2) = (windows.axes[0], windows.axes[1], windows.axes[2])
        let count = a0.taps(od).count * a1.taps(oh).count * a2.taps(ow).count
        guard count > 0 else { return 0 }
        switch rule {
        case let .fixed(value): return value
        case .validCount: return count
        case .includePadding: return a0.paddedExtent[od] * a1.paddedExtent[oh] * a2.paddedExtent[ow]
        }
    }

    /// Sum of each window divided by its ``AvgDivisor``; an empty window gives 0.
    static func avgForward<T: BinaryFloatingPoint>(
        planes: Int, _ windows: Windows3D, divisor rule: AvgDivisor,
        input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>
    ) {
        let inPlane = windows.inputPlane
        forEachOutput(planes: planes, windows) { plane, out, od, oh, ow in
            let divisor = divisor(windows, rule, od, oh, ow)
            guard divisor != 0 else { output[out] = 0; return }
            let base = plane * inPlane
            var sum: T = 0
            forEachInput(windows, od, oh, ow) { i in sum += input[base + i] }
            output[out] = sum / T(divisor)
        }
    }

    /// Spreads each output gradient over its window, divided as in the forward pass.
    static func avgBackward<T: BinaryFloatingPoint>(
        planes: Int, _ windows: Windows3D, divisor rule: AvgDivisor,
        gradOutput: UnsafeBufferPointer<T>, gradInput: UnsafeMutableBufferPointer<T>
    ) {
        gradInput.update(repeating: 0)
        let inPlane = windows.inputPlane
        forEachOutput(planes: planes, windows) { plane, out, od, oh, ow in
            let divisor = divisor(windows, rule, od, oh, ow)
            guard divisor != 0 else { return }
            let share = gradOutput[out] / T(divisor)
            let base = plane * inPlane
            forEachInput(windows, od, oh, ow) { i in gradInput[base + i] += share }
        }
    }
}
