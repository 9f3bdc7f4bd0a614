/// Pads (or, with negative amounts, crops) the trailing dimensions of `input`, as
/// `torch.nn.functional.pad`.
///
/// `pad` lists `(low, high)` pairs starting from the **last** dimension:
/// `[left, right]` pads W, `[left, right, top, bottom]` pads W then H, and so on.
///
/// - `.constant`: fills with `value`; any number of dimensions; negative amounts crop.
/// - `.reflect`: mirrors without repeating the edge (each amount < that dimension's size).
/// - `.replicate`: repeats the edge element.
/// - `.circular`: wraps around (each amount ≤ that dimension's size).
///
/// The non-constant modes pad 1, 2 or 3 trailing dimensions of an input with one or two
/// leading dimensions (`[C, …]` or `[N, C, …]`).
/// - Returns: a tensor whose padded dimensions have size `in + low + high`.
/// - Throws: ``ConvKitError`` if the list or the sizes break these rules.
public func pad(_ input: Tensor<Float>, _ pad: [Int], mode: PadMode = .constant, value: Float = 0) throws -> Tensor<Float> {
    let plan = try PadPlan(op: "pad", inputShape: input.shape, pad: pad, mode: mode)
    return plan.run(input, value: value)
}

/// The gradient of ``pad(_:_:mode:value:)`` with respect to its input: each output gradient
/// flows back to the input element it was copied from (summed where several copied one).
public func padBackward(gradOutput: Tensor<Float>, inputShape: [Int], pad: [Int], mode: PadMode = .constant) throws -> Tensor<Float> {
    let plan = try PadPlan(op: "pad", inputShape: inputShape, pad: pad, mode: mode)
    try checkShape(gradOutput, plan.outputShape, op: "pad", argument: "grad_output")
    return plan.gradient(gradOutput)
}

extension PadPlan {
    /// Validates an `F.pad` call on a tensor of shape `inputShape` (messages name `op`).
    init(op: String, inputShape: [Int], pad: [Int], mode: PadMode) throws {
        let rank = inputShape.count
        guard pad.count % 2 == 0 else {
            throw ConvKitError.invalidArgument(op: op, "pad must have an even number of entries ((low, high) per dimension), but got \(pad.count): \(pad)")
        }
        let padded = pad.count / 2
        guard padded <= rank else {
            throw ConvKitError.invalidArgument(
                op: op, "pad \(pad) pads \(padded) dimensions, but the input of shape \(inputShape) has only \(rank)")
        }
        if mode != .constant {
            guard (1...3).contains(padded), rank == padded + 1 || rank == padded + 2 else {
                throw ConvKitError.invalidArgument(
                    op: op, "\(mode.rawValue) padding of \(padded) dimension(s) expects a \(padded + 1)-D or \(padded + 2)-D input (pad of 2, 4 or 6 entries for 1, 2 or 3 trailing dimensions), but got input of shape \(inputShape) and pad \(pad)")
            }
            if mode != .circular, inputShape[(rank - padded)...].contains(0) || (rank == padded + 2 && inputShape[1] == 0) {
                throw ConvKitError.invalidShape(
                    op: op, "\(mode.rawValue) padding expects non-zero channel and spatial sizes, but got input of shape \(inputShape)")
            }
        }
        var low = Array(repeating: 0, count: rank), high = low
        for i in 0..<padded {
            let axis = rank - 1 - i
            low[axis] = pad[2 * i]
            high[axis] = pad[2 * i + 1]
            let size = inputShape[axis], result = size + low[axis] + high[axis]
            switch mode {
            case .constant:
                guard size + min(low[axis], 0) + min(high[axis], 0) >= 0 else {
                    throw ConvKitError.invalidArgument(
                        op: op, "pad (\(low[axis]), \(high[axis])) on dimension \(axis) of size \(size) crops \(-min(low[axis], 0) - min(high[axis], 0)) elements; crop at most \(size) in total")
                }
            case .reflect:
                guard low[axis] < size, high[axis] < size else {
                    throw ConvKitError.invalidArgument(
                        op: op, "reflect padding (\(low[axis]), \(high[axis])) must be smaller than the size (\(size)) of dimension \(axis) of input \(inputShape)")
                }
            case .circular:
                // Wrapping copies from what remains after cropping, so a pad may not exceed that either.
                let kept = size - max(-low[axis], 0) - max(-high[axis], 0)
                guard low[axis] <= size, high[axis] <= size, max(low[axis], high[axis]) <= max(kept, 0) || result == 0 else {
                    throw ConvKitError.invalidArgument(
                        op: op, "circular padding (\(low[axis]), \(high[axis])) must be at most the size (\(size)) of dimension \(axis) of input \(inputShape), and at most the \(max(kept, 0)) elements left after cropping (it may wrap around only once)")
                }
            case .replicate:
                break
            }
            let least = mode == .circular ? 0 : (mode == .constant ? Int.min : 1)
            guard result >= least else {
                throw ConvKitError.invalidArgument(
                    op: op, "\(mode.rawValue) padding (\(low[axis]), \(high[axis])) on dimension \(axis) of size \(size) leaves \(result) elements; at least \(least) must remain")
            }
        }
        self.init(inputShape: inputShape, low: low, high: high, mode: mode)
    }

    func run<T>(_ input: Tensor<T>, value: T) -> Tensor<T> {
        var output = [T](repeating: value, count: outputShape.reduce(1, *))
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { ReferencePad.forward(self, input: x, output: $0, value: value) }
        }
        return Tensor(uncheckedShape: outputShape, scalars: output)
    }

    func gradient<T: BinaryFloatingPoint>(_ gradOutput: Tensor<T>) -> Tensor<T> {
        var gradInput = [T](repeating: 0, count: inputShape.reduce(1, *))
        gradOutput.withUnsafeBufferPointer { g in
            gradInput.withUnsafeMutableBufferPointer { ReferencePad.backward(self, gradOutput: g, gradInput: $0) }
        }
        return Tensor(uncheckedShape: inputShape, scalars: gradInput)
    }
}

/// Throws unless `tensor` has exactly `shape`.
func checkShape<T>(_ tensor: Tensor<T>, _ shape: [Int], op: String, argument: String) throws {
    guard tensor.shape == shape else {
        throw ConvKitError.invalidShape(op: op, "expected \(argument) of shape \(shape), but got \(tensor.shape)")
    }
}
