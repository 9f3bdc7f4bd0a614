import CConvKitKernels
@testable import ConvKit
import Testing

/// The C micro-kernels of every instruction set this CPU has, each against a plain loop over every
/// tail size of its contract (rows 1…MR, columns 1…NR, depths, strides, accumulate/bias, tap counts).
@Suite("Fast micro-kernels")
struct FastKernelMicroTests {
    static func floats(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1..<1, using: &rng) }
    }

    static func close(_ a: Float, _ b: Float, _ terms: Int) -> Bool {
        abs(a - b) <= 1e-5 * Float(max(terms, 1))
    }

    @Test("GEMM tile: every (mr, nr), depth, output stride, init", arguments: Runtime.availableInstructionSets)
    func gemm(_ isa: InstructionSet) {
        let k = KernelTable(isa)
        let (mrMax, nrMax) = (k.mr, k.nr)
        for kc in [1, 3, 17] {
            let a = Self.floats(mrMax * kc, seed: 1), b = Self.floats(kc * nrMax, seed: 2), bias = Self.floats(mrMax, seed: 3)
            for mr in 1...mrMax {
                for nr in 1...nrMax {
                    for (cs, mode) in [(1, 0), (1, 1), (1, 2), (3, 1)] {
                        let rs = nr * cs + 5
                        var c = Self.floats(mr * rs, seed: 4)
                        let initial = c
                        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in bias.withUnsafeBufferPointer { bias in
                            var rows = (0..<mr).map { Optional(a.baseAddress! + $0 * kc) }
                            c.withUnsafeMutableBufferPointer { c in
                                k.gemm(mr, nr, kc, &rows, 1, b.baseAddress, nrMax, c.baseAddress, rs, cs,
                                       mode == 2 ? bias.baseAddress : nil, mode == 1 ? 1 : 0)
                            }
                        } } }
                        var ok = true
                        for r in 0..<mr {
                            for j in 0..<nr {
                                var sum: Float = mode == 1 ? initial[r * rs + j * cs] : (mode == 2 ? bias[r] : 0)
                                for q in 0..<kc { sum += a[r * kc + q] * b[q * nrMax + j] }
                                ok = ok && Self.close(c[r * rs + j * cs], sum, kc)
                            }
                        }
                        // Elements outside the tile are untouched.
                        for i in 0..<c.count where !(0..<mr).contains(i / rs) || (i % rs) % cs != 0 || (i % rs) / cs >= nr {
                            ok = ok && c[i] == initial[i]
                        }
                        #expect(ok, "\(isa) gemm mr \(mr) nr \(nr) kc \(kc) cs \(cs) mode \(mode)")
                    }
                }
            }
        }
    }

    @Test("packed-A GEMM tile: every (mr, nr), direct and indirect B, output stride, init",
          arguments: Runtime.availableInstructionSets)
    func gemmPacked(_ isa: InstructionSet) {
        let k = KernelTable(isa)
        let nrMax = k.nr, kc = 13
        let src = Self.floats(600, seed: 15), bias = Self.floats(k.mr, seed: 16)
        let offsets = (0..<kc).map { ($0 * 41) % 500 }
        for mr in 1...k.mr {
            let a = Self.floats(kc * mr, seed: 17)   // A[r, q] = a[q·mr + r]
            for nr in [1, nrMax / 2 + 1, nrMax] {
                for indirect in [false, true] {
                    // Modes: 0 from zero, 1 accumulate, 2 from the bias, 3 accumulate then clamp to `bounds`.
                    for (cs, mode) in [(1, 0), (1, 1), (1, 2), (2, 1), (1, 3), (2, 3)] {
                        let rs = nr * cs + 3
                        var c = Self.floats(mr * rs, seed: 18)
                        let initial = c
                        let bounds: [Float] = [-0.3, 0.4]
                        a.withUnsafeBufferPointer { a in src.withUnsafeBufferPointer { s in offsets.withUnsafeBufferPointer { o in
                            bias.withUnsafeBufferPointer { bias in c.withUnsafeMutableBufferPointer { c in
                                bounds.withUnsafeBufferPointer { bounds in
                                    k.gemmPacked(mr, nr, kc, a.baseAddress, s.baseAddress, indirect ? 0 : nrMax + 1,
                                                 indirect ? o.baseAddress : nil, c.baseAddress, rs, cs,
                                                 mode == 2 ? bias.baseAddress : nil, mode == 1 || mode == 3 ? 1 : 0,
                                                 mode == 3 ? bounds.baseAddress : nil)
                                }
                            } }
                        } } }
                        var ok = true
                        for r in 0..<mr {
                            for j in 0..<nr {
                                var sum: Float = mode == 1 || mode == 3 ? initial[r * rs + j * cs] : (mode == 2 ? bias[r] : 0)
                                for q in 0..<kc { sum += a[q * mr + r] * src[(indirect ? offsets[q] : q * (nrMax + 1)) + j] }
                                if mode == 3 { sum = min(max(sum, bounds[0]), bounds[1]) }
                                ok = ok && Self.close(c[r * rs + j * cs], sum, kc)
                            }
                        }
                        #expect(ok, "\(isa) gemm_packed mr \(mr) nr \(nr) indirect \(indirect) cs \(cs) mode \(mode)")
                    }
                }
            }
        }
    }

    @Test("transposition: every row count to 9 (4 × 4 blocks, 2 × 4, single rows), columns past 16, clamping",
          arguments: Runtime.availableInstructionSets)
    func transposition(_ isa: InstructionSet) {
        let k = KernelTable(isa)
        let bounds: [Float] = [-0.5, 0.5]
        for rows in 1...9 {
            for cols in [1, 3, 4, 7, 16, 21, 37] {
                let ldc = cols + 3, os = rows + 2
                let c = Self.floats(rows * ldc, seed: UInt64(rows * 100 + cols))
                for clamped in [false, true] {
                    var out = [Float](repeating: 9, count: cols * os)
                    c.withUnsafeBufferPointer { c in bounds.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { o in
                        k.transposeOut(c.baseAddress, ldc, rows, cols, o.baseAddress, os, clamped ? b.baseAddress : nil)
                    } } }
                    var ok = true
                    for j in 0..<cols {
                        for i in 0..<os {
                            let v = c[i < rows ? i * ldc + j : 0]
                            let expected: Float = i < rows ? (clamped ? min(max(v, -0.5), 0.5) : v) : 9
                            if out[j * os + i] != expected { ok = false }
                        }
                    }
                    #expect(ok, "\(isa) transpose_out rows \(rows) cols \(cols) clamped \(clamped)")
                }
            }
        }
    }

    @Test("window sum, window dot and max over a grid: tap counts, widths, output strides",
          arguments: Runtime.availableInstructionSets)
    func windows(_ isa: InstructionSet) {
        let k = KernelTable(isa)
        let src = Self.floats(3000, seed: 8)
        for ntaps in [0, 1, 4, 9, 10, 19] {
            let offsets = (0..<ntaps).map { ($0 * 53) % 200 }
            let weights = Self.floats(max(ntaps, 1), seed: 9)
            let toff = (0..<ntaps).map { Int32($0 * 3) }
            for (oh, pitch, ow) in [(1, 5, 3), (3, 17, 17), (2, 40, 33), (5, 70, 64), (2, 600, 590)] {
                let grid = oh * pitch
                let padded = (grid + 4 * k.vw - 1) / (4 * k.vw) * (4 * k.vw)
                for cs in [1, 2] {
                    let rs = ow * cs + 1
                    var out = [Float](repeating: .nan, count: oh * rs)
                    src.withUnsafeBufferPointer { s in offsets.withUnsafeBufferPointer { o in weights.withUnsafeBufferPointer { w in
                        out.withUnsafeMutableBufferPointer { out in
                            k.windowSum(s.baseAddress, o.baseAddress, w.baseAddress, ntaps, 0.25, oh, pitch, ow, out.baseAddress, rs, cs)
                        }
                    } } }
                    var ok = true
                    for y in 0..<oh {
                        for x in 0..<ow {
                            var sum: Float = 0.25
                            for t in 0..<ntaps { sum += weights[t] * src[offsets[t] + y * pitch + x] }
                            ok = ok && Self.close(out[y * rs + x * cs], sum, ntaps)
                        }
                    }
                    #expect(ok, "\(isa) window_sum taps \(ntaps) oh \(oh) pitch \(pitch) ow \(ow) cs \(cs)")
                }
                // Dot: g on the grid, zero beyond.
                var g = Self.floats(padded, seed: 10)
                for j in grid..<padded { g[j] = 0 }
                var grad = Self.floats(max(ntaps, 1), seed: 11)
                let initial = grad
                src.withUnsafeBufferPointer { s in offsets.withUnsafeBufferPointer { o in g.withUnsafeBufferPointer { g in
                    grad.withUnsafeMutableBufferPointer { grad in
                        k.windowDot(s.baseAddress, o.baseAddress, ntaps, g.baseAddress, padded, grad.baseAddress)
                    }
                } } }
                var ok = true
                for t in 0..<ntaps {
                    var sum = initial[t]
                    for j in 0..<grid { sum += g[j] * src[offsets[t] + j] }
                    ok = ok && Self.close(grad[t], sum, grid)
                }
                #expect(ok, "\(isa) window_dot taps \(ntaps) grid \(grid)")
                // Max with indices.
                guard ntaps > 0 else { continue }
                let base = (0..<padded).map { Int32($0 * 7) }, first = (0..<padded).map { Int32(-$0) }
                var out = [Float](repeating: .nan, count: oh * ow)
                var indices = [Int64](repeating: -99, count: oh * ow)
                src.withUnsafeBufferPointer { s in offsets.withUnsafeBufferPointer { o in toff.withUnsafeBufferPointer { to in
                    base.withUnsafeBufferPointer { b in first.withUnsafeBufferPointer { f in
                        out.withUnsafeMutableBufferPointer { out in indices.withUnsafeMutableBufferPointer { ind in
                            k.maxPool(s.baseAddress, o.baseAddress, to.baseAddress, ntaps, b.baseAddress, f.baseAddress,
                                      oh, pitch, ow, out.baseAddress, ind.baseAddress)
                        } }
                    } }
                } } }
                for y in 0..<oh {
                    for x in 0..<ow {
                        let j = y * pitch + x
                        var best = -Float.infinity, index = Int64(first[j])
                        for t in 0..<ntaps {
                            let v = src[offsets[t] + j]
                            if v > best || v.isNaN { best = v; index = Int64(base[j] + toff[t]) }
                        }
                        ok = ok && out[y * ow + x] == best && indices[y * ow + x] == index
                    }
                }
                #expect(ok, "\(isa) max_pool taps \(ntaps) oh \(oh) pitch \(pitch) ow \(ow)")
            }
        }
    }
}

/// The fully connected layer's gradients on the GEMM micro-kernel against the same products in
/// Double (the generic loops), over row counts around MR and feature counts around NR.
@Suite("Linear gradients on the micro-kernel")
struct LinearGradientKernelTests {
    @Test("match the Double products", arguments: [(7, 19, 5), (64, 1600, 10), (1, 3, 1), (13, 33, 17)])
    func matchesDouble(_ shape: (Int, Int, Int)) throws {
        let (rows, inFeatures, outFeatures) = shape
        var rng = RandomGenerator(seed: 91)
        let x: Tensor<Float> = rng.tensor([rows, inFeatures])
        let w: Tensor<Float> = rng.tensor([outFeatures, inFeatures])
        let g: Tensor<Float> = rng.tensor([rows, outFeatures])
        for threads in [1, 3] {
            try Runtime.$override.withValue(.init(threadCount: threads)) {
                let got = try linearBackward(gradOutput: g, input: x, weight: w)
                var gx = [Double](repeating: 0, count: rows * inFeatures), gw = [Double](repeating: 0, count: outFeatures * inFeatures)
                let gd = g.scalars.map(Double.init), xd = x.scalars.map(Double.init), wd = w.scalars.map(Double.init)
                gd.withUnsafeBufferPointer { g in wd.withUnsafeBufferPointer { w in xd.withUnsafeBufferPointer { x in
                    gx.withUnsafeMutableBufferPointer {
                        LinearKernels.backwardInput(g, w, $0, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
                    }
                    gw.withUnsafeMutableBufferPointer {
                        LinearKernels.backwardWeight(g, x, $0, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
                    }
                } } }
                for (actual, expected) in [(try #require(got.input).scalars, gx), (try #require(got.weight).scalars, gw)] {
                    let scale = max(expected.map(abs).max() ?? 0, 1)
                    let error = zip(actual, expected).map { abs(Double($0) - $1) }.max() ?? 0
                    #expect(error <= 1e-5 * scale, "\(shape) [\(threads) threads]: off by \(error)")
                }
            }
        }
    }
}
