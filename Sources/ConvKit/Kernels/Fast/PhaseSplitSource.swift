import CConvKitKernels

/// A copy of `[N, C, h, w]` planes, zero-padded and split into stride phases, laid out so that
/// every tap of a correlation reads one contiguous run of it (indirect convolution).
///
/// Plane `c` of image `n` becomes `phases.count` sub-planes of `rows × pitch` floats:
/// `sub[φ = (py, px)][i][j] = src[i·sy + py − top][j·sx + px − left]` (0 outside the source).
/// A correlation tap that reads source row `oy·sy + kh·d − top` then reads sub-plane row
/// `oy + ⌊kh·d / sy⌋` of phase `kh·d mod sy` — for every output row `oy`. So with positions
/// numbered `j = oy·pitch + ox` on a grid `pitch` wide (columns `ox ≥ OW` computed and
/// discarded), tap `t` of position `j` is `buffer[tapOffset(t) + j]`.
struct PhaseSplitSource {
    let channels: Int
    let srcH: Int, srcW: Int
    let sy: Int, sx: Int
    let top: Int, left: Int
    /// Distinct row and column phases in use.
    let phaseY: [Int]
    let phaseX: [Int]
    let rows: Int, pitch: Int
    /// Floats after the last plane that over-reading tiles may touch.
    let slack: Int
    /// The value outside the source (−∞ for max pooling).
    var padValue: Float = 0
    /// The C copy of a single-phase (stride 1) channel: a plain copy, the same at every level.
    private let padPlane = Runtime.kernels.padPlane
    /// The C split of a row phase by column phase of 4 (on a line of at most 4096 columns a phase).
    private let split4Rows = Runtime.kernels.split4Rows

    var subPlane: Int { rows * pitch }
    var channelStride: Int { phaseY.count * phaseX.count * subPlane }
    var imageStride: Int { channels * channelStride }
    func count(batch: Int) -> Int { batch * imageStride + slack }

    /// Offset of the run of a tap reading source row `oy·sy + dyRaw − top`, column `ox·sx + dxRaw − left`
    /// (`dyRaw`, `dxRaw` ≥ 0), in channel `c`.
    func offset(channel c: Int, dyRaw: Int, dxRaw: Int) -> Int {
        let py = phaseY.firstIndex(of: dyRaw % sy)!, px = phaseX.firstIndex(of: dxRaw % sx)!
        return c * channelStride + (py * phaseX.count + px) * subPlane + (dyRaw / sy) * pitch + dxRaw / sx
    }

    /// Fills `buffer` from `src` (`[batch, channels, srcH, srcW]`), in parallel over planes.
    func fill(_ buffer: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, batch: Int) {
        let layout = self
        parallelFor(batch * channels) { range, _ in
            for plane in range {
                layout.fillChannel(buffer + plane * layout.channelStride, from: src + plane * layout.srcH * layout.srcW)
            }
        }
        (buffer + batch * imageStride).initialize(repeating: padValue, count: slack)
    }

    /// Calls `body(item, copy)` for `item` in `0..<items`, in parallel, with `copy` this layout's
    /// prepared copy of the one-channel plane at `plane(item)`, in a per-thread scratch buffer with
    /// `overread` floats of room (pad value) after it. Each plane is written whole, so the buffer
    /// is never cleared first (cheaper when a thread gets only a few planes).
    func forEachPlane(_ items: Int, overread: Int, plane: (Int) -> UnsafePointer<Float>,
                      _ body: (Int, UnsafePointer<Float>) -> Void) {
        let count = channelStride + overread
        parallelFor(items) { range, scratch in
            scratch.reset()
            scratch.reserve(floats: count)
            let copy = scratch.floats(count)
            fillFloats(copy + channelStride, padValue, overread)
            for item in range {
                fillChannel(copy, from: plane(item))
                body(item, copy)
            }
        }
    }

    /// Writes the pad value over one channel (all its sub-planes): then `fillChannel(…, interiorOnly: true)`
    /// needs to write only the elements that come from the source, plane after plane.
    func fillBorders(_ dst: UnsafeMutablePointer<Float>) {
        fillFloats(dst, padValue, channelStride)
    }

    /// Fills the `channelStride` floats of one channel from its `srcH × srcW` plane (with
    /// `interiorOnly`, only the elements that come from the source; the rest must hold the pad value).
    /// With `rows`, only those rows of every sub-plane, at their places (a work item copies just the
    /// rows it reads: the input rows of its own outputs, which its thread wrote in the layer before
    /// when that layer split its work by rows too).
    func fillChannel(_ dst: UnsafeMutablePointer<Float>, from plane: UnsafePointer<Float>, interiorOnly: Bool = false,
                     rows: Range<Int>? = nil) {
        let rows = rows ?? 0..<self.rows
        if sy == 1 && sx == 1 {
            padPlane(plane, srcH, srcW, dst + rows.lowerBound * pitch, rows.count, pitch, top - rows.lowerBound, left, padValue,
                     interiorOnly ? 1 : 0)
            return
        }
        let phases = phaseX.count
        // Every column phase, in order (no array comparison: this runs once per plane).
        let allColumnPhases = phases == sx && phaseX.indices.allSatisfy { phaseX[$0] == $0 }
        for iy in phaseY.indices {
            let py = phaseY[iy]
            let base = dst + iy * phases * subPlane
            if sx == 2 && allColumnPhases {
                // Both column phases of a row in one pass (deinterleave).
                fillSubPlanePair(base, base + subPlane, from: plane, py: py, rows: rows, interiorOnly: interiorOnly)
            } else if sx == 4 && allColumnPhases && pitch <= 4096 {
                // Winograd's split, in C (it writes the pad value too: the same result when interiorOnly).
                split4Rows(plane, srcH, srcW, py, top, left, padValue, base, subPlane, pitch, rows.lowerBound, rows.upperBound)
            } else {
                for (ix, px) in phaseX.enumerated() {
                    fillSubPlane(base + ix * subPlane, from: plane, py: py, px: px, rows: rows, interiorOnly: interiorOnly)
                }
            }
        }
    }

    /// Columns `j` of phase `px` with `0 ≤ j·sx + px − left < srcW`: `firstJ..<endJ`.
    @inline(__always)
    private func validColumns(_ px: Int) -> (Int, Int) {
        // ⌈v / sx⌉ for v > 0, by a shift for the usual strides: this runs for every sub-plane a work
        // item fills, and 32 divisions a channel were most of the time of the few-row fills of
        // Winograd's blocks.
        func divided(_ v: Int) -> Int {
            v <= 0 ? 0 : sx & (sx - 1) == 0 ? (v + sx - 1) >> sx.trailingZeroBitCount : (v + sx - 1) / sx
        }
        let firstJ = divided(left - px)
        let endJ = max(firstJ, min(pitch, divided(srcW + left - px)))
        return (firstJ, endJ)
    }

    @inline(__always)
    private func fillSubPlane(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, py: Int, px: Int,
                              rows: Range<Int>, interiorOnly: Bool) {
        let (firstJ, endJ) = validColumns(px)
        let pad = padValue
        for i in rows {
            let line = dst + i &* pitch
            let iy = i &* sy &+ py &- top
            guard iy >= 0 && iy < srcH else {
                if !interiorOnly { fillFloats(line, pad, pitch) }
                continue
            }
            if !interiorOnly { fillFloats(line, pad, firstJ) }
            if sx == 1 {
                copyFloats(src + (iy &* srcW &+ firstJ &+ px &- left), line + firstJ, endJ &- firstJ)
            } else {
                var s = src + (iy &* srcW &+ firstJ &* sx &+ px &- left)
                for j in firstJ..<endJ {
                    line[j] = s.pointee
                    s += sx
                }
            }
            if !interiorOnly { fillFloats(line + endJ, pad, pitch &- endJ) }
        }
    }

    /// Stride-2 columns: even source columns to phase 0, odd ones to phase 1, one row at a time.
    @inline(__always)
    private func fillSubPlanePair(_ even: UnsafeMutablePointer<Float>, _ odd: UnsafeMutablePointer<Float>,
                                  from src: UnsafePointer<Float>, py: Int, rows: Range<Int>, interiorOnly: Bool) {
        if pitch < 8 {
            // Rows shorter than one SIMD8 store (7×7 maps split for Winograd F(2×2)): element by
            // element, without the calls of the general path (which took 12 % of ResNet's 7×7×512
            // layer).
            for i in rows {
                let e = even + i &* pitch, o = odd + i &* pitch
                let iy = i &* sy &+ py &- top
                let inside = iy >= 0 && iy < srcH
                let row = src + (inside ? iy &* srcW : 0)
                for j in 0..<pitch {
                    let c = 2 &* j &- left
                    if inside && c >= 0 && c < srcW { e[j] = row[c] } else if !interiorOnly { e[j] = padValue }
                    if inside && c &+ 1 >= 0 && c &+ 1 < srcW { o[j] = row[c &+ 1] } else if !interiorOnly { o[j] = padValue }
                }
            }
            return
        }
        let (first0, end0) = validColumns(0), (first1, end1) = validColumns(1)
        for i in rows {
            let e = even + i * pitch, o = odd + i * pitch
            let iy = i * sy + py - top
            guard iy >= 0 && iy < srcH else {
                if !interiorOnly {
                    fillFloats(e, padValue, pitch)
                    fillFloats(o, padValue, pitch)
                }
                continue
            }
            let row = src + iy * srcW
            if !interiorOnly {
                fillFloats(e, padValue, first0)
                fillFloats(o, padValue, first1)
            }
            // Source column c = 2j − left (+1): take pairs while both phases are in range.
            let start = max(first0, first1), end = min(end0, end1)
            var j = start
            if end > start {
                // A SIMD16 load from column 2j − left holds 8 (phase 0, phase 1) pairs.
                while j + 8 <= end {
                    let v = UnsafeRawPointer(row + (2 &* j &- left)).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(e + j).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(o + j).storeBytes(of: v.oddHalf, as: SIMD8<Float>.self)
                    j &+= 8
                }
            }
            for k in first0..<max(first0, min(start, end0)) { e[k] = row[2 &* k &- left] }
            for k in first1..<max(first1, min(start, end1)) { o[k] = row[2 &* k &+ 1 &- left] }
            for k in j..<max(j, end0) { e[k] = row[2 &* k &- left] }
            for k in j..<max(j, end1) { o[k] = row[2 &* k &+ 1 &- left] }
            if !interiorOnly {
                fillFloats(e + end0, padValue, pitch - end0)
                fillFloats(o + end1, padValue, pitch - end1)
            }
        }
    }
}

/// `count` floats from `src` to `dst` in SIMD chunks (short rows: cheaper than a memcpy call).
@inline(__always)
func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i &+ 8 <= count {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self),
                                                    as: SIMD8<Float>.self)
        i &+= 8
    }
    while i < count {
        dst[i] = src[i]
        i &+= 1
    }
}

/// `count` copies of `value` at `dst`, in SIMD chunks.
@inline(__always)
func fillFloats(_ dst: UnsafeMutablePointer<Float>, _ value: Float, _ count: Int) {
    let v = SIMD8<Float>(repeating: value)
    var i = 0
    while i &+ 8 <= count {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i &+= 8
    }
    while i < count {
        dst[i] = value
        i &+= 1
    }
}

