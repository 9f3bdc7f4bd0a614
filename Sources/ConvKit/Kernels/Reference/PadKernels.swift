/// Where each output element of a padding op reads from, axis by axis.
struct PadPlan: Sendable {
    let inputShape: [Int]
    let outputShape: [Int]
    /// `sources[axis][o]` is the input index along `axis` that output index `o` copies,
    /// or −1 where the constant fill value goes.
    let sources: [[Int]]

    /// `low[axis]` / `high[axis]` elements added before / after each axis (negative: cropped).
    /// The caller has checked the mode's size limits.
    init(inputShape: [Int], low: [Int], high: [Int], mode: PadMode) {
        self.inputShape = inputShape
        outputShape = zip(inputShape, zip(low, high)).map { $0 + $1.0 + $1.1 }
        sources = inputShape.indices.map { axis in
            let size = inputShape[axis], lo = low[axis], hi = high[axis]
            // Circular padding wraps around what remains after cropping (PyTorch's `_pad_circular`).
            let kept = size - max(-lo, 0) - max(-hi, 0)
            return (0..<max(0, size + lo + hi)).map { o in
                let i = o - lo
                switch mode {
                case .constant: return (i >= 0 && i < size) ? i : -1
                case .reflect: return i < 0 ? -i : (i >= size ? 2 * (size - 1) - i : i)
                case .replicate: return min(max(i, 0), size - 1)
                case .circular:
                    let j = o - max(lo, 0)
                    return max(-lo, 0) + ((j % kept) + kept) % kept
                }
            }
        }
    }
}

/// Reference padding: a gather along the plan's source maps, and its adjoint scatter-add.
enum ReferencePad {
    static func forward<T>(_ plan: PadPlan, input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>, value: T) {
        walk(plan, axis: 0, inputOffset: 0, outputOffset: 0) { out, source in
            output[out] = source.map { input[$0] } ?? value
        }
    }

    /// `gradInput` is overwritten.
    static func backward<T: BinaryFloatingPoint>(_ plan: PadPlan, gradOutput: UnsafeBufferPointer<T>,
                                                 gradInput: UnsafeMutableBufferPointer<T>) {
        gradInput.update(repeating: 0)
        walk(plan, axis: 0, inputOffset: 0, outputOffset: 0) { out, source in
            if let source { gradInput[source] += gradOutput[out] }
        }
    }

    /// Calls `body(outputIndex, inputIndex or nil)` for every output element.
    private static func walk(_ plan: PadPlan, axis: Int, inputOffset: Int, outputOffset: Int,
                             _ body: (Int, Int?) -> Void) {
        let rank = plan.outputShape.count
        guard rank > 0 else { body(0, 0); return }
        let outputStride = plan.outputShape[(axis + 1)...].reduce(1, *)
        for (o, source) in plan.sources[axis].enumerated() {
            let out = (outputOffset + o) * outputStride
            if axis == rank - 1 {
                body(outputOffset + o, source < 0 ? nil : inputOffset + source)
            } else if source < 0 {
                for i in 0..<outputStride { body(out + i, nil) }
            } else {
                walk(plan, axis: axis + 1, inputOffset: (inputOffset + source) * plan.inputShape[axis + 1],
                     outputOffset: (outputOffset + o) * plan.outputShape[axis + 1], body)
            }
        }
    }
}
