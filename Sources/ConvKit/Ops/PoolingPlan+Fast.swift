/// The `Float` fast path of ``PoolingPlan`` (``FastPooling``); `run` / `gradient` stay the
/// reference and serve `Double`.
extension PoolingPlan {
    func runFast(_ fast: FastPooling, _ input: Tensor<Float>, returningIndices: Bool) throws -> PoolingResult {
        try checkShape(input, inputShape, op: op, argument: "input")
        let count = outputShape.reduce(1, *)
        let kernels = Runtime.kernels
        var indices: [Int]?
        let output = [Float](unsafeUninitializedCapacity: count) { y, initialized in
            input.withUnsafeBufferPointer { x in
                if fast.isMax && returningIndices {
                    indices = [Int](unsafeUninitializedCapacity: count) { i, done in
                        fast.maxForward(input: x.baseAddress!, output: y.baseAddress!, indices: i.baseAddress!, kernels: kernels)
                        done = count
                    }
                } else if fast.isMax {
                    fast.maxForward(input: x.baseAddress!, output: y.baseAddress!, indices: nil, kernels: kernels)
                } else {
                    fast.averageForward(input: x.baseAddress!, output: y.baseAddress!, kernels: kernels)
                }
            }
            initialized = count
        }
        return PoolingResult(output: Tensor(uncheckedShape: outputShape, scalars: output),
                             indices: indices.map { Tensor(uncheckedShape: outputShape, scalars: $0) })
    }

    func gradientFast(_ fast: FastPooling, _ gradOutput: Tensor<Float>, indices: Tensor<Int>?) throws -> Tensor<Float> {
        try checkShape(gradOutput, outputShape, op: op, argument: "grad_output")
        let count = inputShape.reduce(1, *)
        if fast.isMax {
            let indices = try checkedIndices(indices)
            let gx = [Float](unsafeUninitializedCapacity: count) { gx, initialized in
                gradOutput.withUnsafeBufferPointer { g in indices.withUnsafeBufferPointer { i in
                    fast.maxBackward(gradOutput: g.baseAddress!, indices: i.baseAddress!, gradInput: gx.baseAddress!)
                } }
                initialized = count
            }
            return Tensor(uncheckedShape: inputShape, scalars: gx)
        }
        let kernels = Runtime.kernels
        let gx = [Float](unsafeUninitializedCapacity: count) { gx, initialized in
            gradOutput.withUnsafeBufferPointer { g in
                fast.averageBackward(gradOutput: g.baseAddress!, gradInput: gx.baseAddress!, kernels: kernels)
            }
            initialized = count
        }
        return Tensor(uncheckedShape: inputShape, scalars: gx)
    }
}
