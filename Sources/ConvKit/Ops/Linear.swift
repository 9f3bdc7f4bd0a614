/// `y = x·Wᵀ + b` for `x [N, in]`, `weight [out, in]`, `bias [out]` (PyTorch's `F.linear`;
/// leading dimensions of `x` beyond the last are flattened into `N`).
public func linear(_ input: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>? = nil) throws -> Tensor<Float> {
    let (rows, _, outFeatures) = try LinearShape.check(input: input.shape, weight: weight.shape, bias: bias?.shape)
    var output = [Float](repeating: 0, count: rows * outFeatures)
    input.withUnsafeBufferPointer { x in weight.withUnsafeBufferPointer { w in output.withUnsafeMutableBufferPointer { y in
        LinearKernels.forward(x, w, y, rows: rows, inFeatures: weight.shape[1], outFeatures: outFeatures)
    } } }
    if let bias {
        for r in 0..<rows { for o in 0..<outFeatures { output[r * outFeatures + o] += bias.scalars[o] } }
    }
    return Tensor(uncheckedShape: Array(input.shape.dropLast()) + [outFeatures], scalars: output)
}

/// Gradients of ``linear(_:weight:bias:)``: `∂x = ∂y·W`, `∂W = ∂yᵀ·x`, `∂b = Σ ∂y`.
public func linearBackward(gradOutput: Tensor<Float>, input: Tensor<Float>, weight: Tensor<Float>,
                           wrt request: GradientRequest = .all) throws -> ConvGradients {
    let (rows, inFeatures, outFeatures) = try LinearShape.check(input: input.shape, weight: weight.shape, bias: nil)
    try checkShape(gradOutput, Array(input.shape.dropLast()) + [outFeatures], op: "linear", argument: "grad_output")
    var result = ConvGradients()
    if request.contains(.input) {
        var gx = [Float](repeating: 0, count: rows * inFeatures)
        gradOutput.withUnsafeBufferPointer { g in weight.withUnsafeBufferPointer { w in gx.withUnsafeMutableBufferPointer {
            LinearKernels.backwardInput(g, w, $0, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        } } }
        result.input = Tensor(uncheckedShape: input.shape, scalars: gx)
    }
    if request.contains(.weight) {
        var gw = [Float](repeating: 0, count: outFeatures * inFeatures)
        gradOutput.withUnsafeBufferPointer { g in input.withUnsafeBufferPointer { x in gw.withUnsafeMutableBufferPointer {
            LinearKernels.backwardWeight(g, x, $0, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        } } }
        result.weight = Tensor(uncheckedShape: weight.shape, scalars: gw)
    }
    if request.contains(.bias) {
        var gb = [Float](repeating: 0, count: outFeatures)
        for r in 0..<rows { for o in 0..<outFeatures { gb[o] += gradOutput.scalars[r * outFeatures + o] } }
        result.bias = Tensor(uncheckedShape: [outFeatures], scalars: gb)
    }
    return result
}

enum LinearShape {
    /// Returns (rows, in_features, out_features).
    static func check(input: [Int], weight: [Int], bias: [Int]?) throws -> (Int, Int, Int) {
        guard weight.count == 2 else {
            throw ConvKitError.invalidShape(op: "linear", "expected weight [out_features, in_features], but got shape \(weight)")
        }
        guard let last = input.last, last == weight[1] else {
            throw ConvKitError.invalidShape(
                op: "linear", "input of shape \(input) has \(input.last.map(String.init) ?? "no") features, but weight \(weight) expects in_features = \(weight[1])")
        }
        if let bias, bias != [weight[0]] {
            throw ConvKitError.invalidShape(op: "linear", "expected bias of shape [\(weight[0])], but got \(bias)")
        }
        return (input.dropLast().reduce(1, *), weight[1], weight[0])
    }
}

/// The matrix products of a fully connected layer, row-major.
enum LinearKernels {
    /// `y[r, o] = Σ_i x[r, i]·w[o, i]`, each dot product as eight interleaved partial sums (so
    /// that it vectorises; a single running sum cannot be reordered by the compiler).
    static func forward(_ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>,
                        rows: Int, inFeatures: Int, outFeatures: Int) {
        guard let x = x.baseAddress, let w = w.baseAddress else { y.update(repeating: 0); return }
        for r in 0..<rows {
            let row = UnsafeRawPointer(x + r * inFeatures)
            for o in 0..<outFeatures {
                let column = UnsafeRawPointer(w + o * inFeatures)
                var lanes = SIMD8<Float>()
                var i = 0
                while i + 8 <= inFeatures {
                    let offset = i * MemoryLayout<Float>.stride
                    lanes += row.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        * column.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    i += 8
                }
                var sum = lanes.sum()
                while i < inFeatures { sum += x[r * inFeatures + i] * w[o * inFeatures + i]; i += 1 }
                y[r * outFeatures + o] = sum
            }
        }
    }

    /// `∂L/∂x = ∂L/∂y · W` on the GEMM micro-kernel.
    static func backwardInput(_ g: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>, _ gx: UnsafeMutableBufferPointer<Float>,
                              rows: Int, inFeatures: Int, outFeatures: Int) {
        guard let g = g.baseAddress, let w = w.baseAddress, let gx = gx.baseAddress, outFeatures > 0 else {
            gx.update(repeating: 0); return
        }
        product(m: rows, n: inFeatures, k: outFeatures, a: g, aRowStride: outFeatures, aColumnStride: 1, b: w, c: gx)
    }

    /// `∂L/∂W = (∂L/∂y)ᵀ · x` on the GEMM micro-kernel.
    static func backwardWeight(_ g: UnsafeBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, _ gw: UnsafeMutableBufferPointer<Float>,
                               rows: Int, inFeatures: Int, outFeatures: Int) {
        guard let g = g.baseAddress, let x = x.baseAddress, let gw = gw.baseAddress, rows > 0 else {
            gw.update(repeating: 0); return
        }
        product(m: outFeatures, n: inFeatures, k: rows, a: g, aRowStride: 1, aColumnStride: outFeatures, b: x, c: gw)
    }

    /// `C = A · B` for row-major `B` (`k × n`) and `C` (`m × n`), `A[i, kk] = a[i·aRowStride + kk·aColumnStride]`:
    /// register tiles of the micro-kernel in parallel, each element one fused multiply-add chain in
    /// `kk` order (so the thread count never changes a result). The last, partial column tile reads
    /// `B` from a zero-padded copy (the kernel reads whole vectors).
    private static func product(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, aRowStride: Int, aColumnStride: Int,
                                b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        let kernels = Runtime.kernels, mr = kernels.mr, nr = kernels.nr
        let rowTiles = (m + mr - 1) / mr, columnTiles = (n + nr - 1) / nr
        let gemm = kernels.gemm
        parallelFor(rowTiles * columnTiles) { range, scratch in
            scratch.reset()
            scratch.reserve(floats: k * nr + 2 * mr)
            let panel = scratch.floats(k * nr)
            let rowPointers = UnsafeMutableRawPointer(scratch.floats(2 * mr)).bindMemory(to: UnsafePointer<Float>?.self, capacity: mr)
            for item in range {
                let i0 = (item / columnTiles) * mr, j0 = (item % columnTiles) * nr
                let rows = min(mr, m - i0), columns = min(nr, n - j0)
                for r in 0..<rows { rowPointers[r] = a + (i0 + r) * aRowStride }
                var bTile = b + j0, ldb = n
                if columns < nr {
                    for kk in 0..<k {
                        for j in 0..<nr { panel[kk * nr + j] = j < columns ? b[kk * n + j0 + j] : 0 }
                    }
                    bTile = UnsafePointer(panel)
                    ldb = nr
                }
                gemm(rows, columns, k, rowPointers, aColumnStride, bTile, ldb, c + i0 * n + j0, n, 1, nil, 0)
            }
        }
    }

    static func backwardInput<T: BinaryFloatingPoint>(_ g: UnsafeBufferPointer<T>, _ w: UnsafeBufferPointer<T>, _ gx: UnsafeMutableBufferPointer<T>,
                                                      rows: Int, inFeatures: Int, outFeatures: Int) {
        gx.update(repeating: 0)
        for r in 0..<rows {
            for o in 0..<outFeatures {
                let scale = g[r * outFeatures + o]
                for i in 0..<inFeatures { gx[r * inFeatures + i] += scale * w[o * inFeatures + i] }
            }
        }
    }

    static func backwardWeight<T: BinaryFloatingPoint>(_ g: UnsafeBufferPointer<T>, _ x: UnsafeBufferPointer<T>, _ gw: UnsafeMutableBufferPointer<T>,
                                                       rows: Int, inFeatures: Int, outFeatures: Int) {
        gw.update(repeating: 0)
        for r in 0..<rows {
            for o in 0..<outFeatures {
                let scale = g[r * outFeatures + o]
                for i in 0..<inFeatures { gw[o * inFeatures + i] += scale * x[r * inFeatures + i] }
            }
        }
    }
}
