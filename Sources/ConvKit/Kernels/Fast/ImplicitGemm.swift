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

    /// Writes the pad value over one channel (all its sub-planes): then `fillChannel(…, interiorOnly: true)`
    /// needs to write only the elements that come from the source, plane after plane.
    func fillBorders(_ dst: UnsafeMutablePointer<Float>) {
        fillFloats(dst, padValue, channelStride)
    }

    /// Fills the `channelStride` floats of one channel from its `srcH × srcW` plane (with
    /// `interiorOnly`, only the elements that come from the source; the rest must hold the pad value).
    func fillChannel(_ dst: UnsafeMutablePointer<Float>, from plane: UnsafePointer<Float>, interiorOnly: Bool = false) {
        let phases = phaseX.count
        for (iy, py) in phaseY.enumerated() {
            let base = dst + iy * phases * subPlane
            if sx == 2 && phaseX == [0, 1] {
                // Both column phases of a row in one pass (deinterleave).
                fillSubPlanePair(base, base + subPlane, from: plane, py: py, interiorOnly: interiorOnly)
            } else if sx == 4 && phaseX == [0, 1, 2, 3] {
                fillSubPlaneQuad(base, from: plane, py: py, interiorOnly: interiorOnly)
            } else {
                for (ix, px) in phaseX.enumerated() {
                    fillSubPlane(base + ix * subPlane, from: plane, py: py, px: px, interiorOnly: interiorOnly)
                }
            }
        }
    }

    /// Columns `j` of phase `px` with `0 ≤ j·sx + px − left < srcW`: `firstJ..<endJ`.
    @inline(__always)
    private func validColumns(_ px: Int) -> (Int, Int) {
        let firstJ = left - px <= 0 ? 0 : (left - px + sx - 1) / sx
        let endJ = max(firstJ, min(pitch, srcW + left - px <= 0 ? 0 : (srcW + left - px + sx - 1) / sx))
        return (firstJ, endJ)
    }

    @inline(__always)
    private func fillSubPlane(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, py: Int, px: Int,
                              interiorOnly: Bool) {
        let (firstJ, endJ) = validColumns(px)
        let pad = padValue
        for i in 0..<rows {
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

    /// Stride-4 columns: source column 4j + px − left to phase px's column j, one row at a time.
    @inline(__always)
    private func fillSubPlaneQuad(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, py: Int,
                                  interiorOnly: Bool) {
        let ranges = (0..<4).map { validColumns($0) }
        let start = ranges.map(\.0).max()!, end = ranges.map(\.1).min()!
        for i in 0..<rows {
            let iy = i * sy + py - top
            guard iy >= 0 && iy < srcH else {
                if !interiorOnly { for px in 0..<4 { fillFloats(dst + px * subPlane + i * pitch, padValue, pitch) } }
                continue
            }
            let row = src + iy * srcW
            var j = start
            if end > start {
                // A SIMD16 load from column 4j − left holds 4 columns of each phase.
                while j + 4 <= end {
                    let v = UnsafeRawPointer(row + (4 &* j &- left)).loadUnaligned(as: SIMD16<Float>.self)
                    let even = v.evenHalf, odd = v.oddHalf
                    UnsafeMutableRawPointer(dst + i * pitch + j).storeBytes(of: even.evenHalf, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(dst + subPlane + i * pitch + j).storeBytes(of: odd.evenHalf, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(dst + 2 * subPlane + i * pitch + j).storeBytes(of: even.oddHalf, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(dst + 3 * subPlane + i * pitch + j).storeBytes(of: odd.oddHalf, as: SIMD4<Float>.self)
                    j &+= 4
                }
            }
            for px in 0..<4 {
                let line = dst + px * subPlane + i * pitch
                let (first, last) = ranges[px]
                if !interiorOnly { fillFloats(line, padValue, first) }
                for k in first..<max(first, min(start, last)) { line[k] = row[4 &* k &+ px &- left] }
                let from = max(j, first)
                for k in from..<max(from, last) { line[k] = row[4 &* k &+ px &- left] }
                if !interiorOnly { fillFloats(line + last, padValue, pitch - last) }
            }
        }
    }

    /// Stride-2 columns: even source columns to phase 0, odd ones to phase 1, one row at a time.
    @inline(__always)
    private func fillSubPlanePair(_ even: UnsafeMutablePointer<Float>, _ odd: UnsafeMutablePointer<Float>,
                                  from src: UnsafePointer<Float>, py: Int, interiorOnly: Bool) {
        let (first0, end0) = validColumns(0), (first1, end1) = validColumns(1)
        for i in 0..<rows {
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

/// Rows of the `index`-th of `tiles` nearly equal row tiles of `rows` rows: (first row, count).
@inline(__always)
func rowTile(_ index: Int, of tiles: Int, rows: Int) -> (Int, Int) {
    let base = rows / tiles, extra = rows % tiles
    return (index * base + min(index, extra), base + (index < extra ? 1 : 0))
}

/// Packs `entries` row-major matrices (`m × k`, rows `lda` apart, entry `e` at `a + e·aStride`) into
/// k-major panels for ``KernelTable/gemmPacked``: rows are cut into blocks of `mc`, each block into
/// `⌈rows/mr⌉` nearly equal row tiles; the tile starting at row R with h rows holds
/// `A[R + i, k]` at `R·k + k·h + i` (entry `e` at `e·m·k`). In parallel over tiles.
func packRowPanels(_ a: UnsafePointer<Float>, lda: Int, aStride: Int, entries: Int, m: Int, k: Int,
                   mc: Int, mr: Int, into packed: UnsafeMutablePointer<Float>) {
    let mBlocks = (m + mc - 1) / mc
    let tilesPerBlock = (mc + mr - 1) / mr
    parallelFor(entries * mBlocks * tilesPerBlock, grain: 4) { range, _ in
        for item in range {
            let tile = item % tilesPerBlock, rest = item / tilesPerBlock
            let mb = rest % mBlocks, e = rest / mBlocks
            let r0 = mb * mc, rows = min(mc, m - r0)
            let tiles = (rows + mr - 1) / mr
            guard tile < tiles else { continue }
            let (first, height) = rowTile(tile, of: tiles, rows: rows)
            let row = r0 + first
            let src = a + e * aStride + row * lda
            let dst = packed + e * m * k + row * k
            for kk in 0..<k {
                for i in 0..<height { dst[kk * height + i] = src[i * lda + kk] }
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

/// One indirect-GEMM convolution problem: for every image `n` and group `g`,
///
///     C[m, j] = init[m] + Σ_{k < K} A[m, k] · src[n, g][bOffset[k] + j]
///
/// over grid positions `j = y·pitch + x` (`y < gridH`, `x < pitch`; columns `x ≥ validW` are
/// computed and dropped). `A` is row-major per group. Results go to
/// `dst + n·dstImageStride + g·dstGroupStride + m·dstRowStride + dstOffset + y·dstY + x·dstX`.
///
/// Work is split over tiles of `NR` positions (never over K), so the result of every element
/// is the same for any thread count.
struct IndirectGemm {
    var batch = 1
    var groups = 1
    var m = 0
    var k = 0
    /// `A` of group `g` starts at `a + g·aGroupStride`; rows are `lda` apart; columns contiguous.
    var aGroupStride = 0
    var lda = 0
    var bOffset: [Int] = []
    var srcImageStride = 0
    var srcGroupStride = 0
    var gridH = 0
    var pitch = 0
    var validW = 0
    var dstImageStride = 0
    var dstGroupStride = 0
    var dstRowStride = 0
    var dstOffset = 0
    var dstY = 0, dstX = 1
    /// The source is the caller's tensor (no slack after it): tiles running past the end of the
    /// last image's grid are packed instead of read in place.
    var sourceHasNoSlack = false

    /// Whether grid positions map one-to-one onto consecutive output elements.
    private var contiguous: Bool { pitch == validW && dstX == 1 && dstY == validW }

    /// K-block depth: the B rows of a block stay in L1 across the M tiles of a column tile.
    static func blockDepth(k: Int, nr: Int) -> Int {
        guard k > 0 else { return 1 }
        let limit = max(32, 2048 / nr)
        let blocks = (k + limit - 1) / limit
        return (k + blocks - 1) / blocks
    }

    /// Rows (`mc`) and column tiles (`tileGroup`) per work item. An item reads its `mc × K` rows of A
    /// once and applies them to all its tiles, so tiles per item come first (up to 16, within an
    /// image); then A's rows are split until there are about four items per thread. Results do not
    /// depend on the blocking.
    static func blocking(m: Int, kc: Int, mr: Int, tiles: Int, units: Int) -> (mc: Int, tileGroup: Int) {
        let target = 4 * Runtime.threadCount
        let tileGroup = max(1, min(16, tiles))
        let tileItems = units * ((tiles + tileGroup - 1) / tileGroup)
        let mcMax = max(mr, (32768 / max(kc, 1)) / mr * mr)      // an mc × kc block of A in ~128 KiB
        var mBlocks = max((m + mcMax - 1) / mcMax, (target + tileItems - 1) / tileItems)
        mBlocks = min(mBlocks, (m + mr - 1) / mr)
        let mc = min(m, ((m + mBlocks - 1) / mBlocks + mr - 1) / mr * mr)
        return (max(mc, 1), tileGroup)
    }

    /// Runs the problem on the worker pool.
    ///
    /// Work items are (image, group, block of `mc` rows, group of column tiles); within an item the
    /// K blocks are outermost, so the `mc × kc` block of A stays in L2 while it meets every tile of
    /// the item. Each element's sum is one chain of fused multiply-adds in K order whatever the
    /// blocking (the kernel continues from C), so the blocking never changes a result.
    /// Rows of A per work item for these kernels (the packed-panel layout depends on it).
    func rowBlock(_ kernels: KernelTable) -> Int {
        let tilesPerImage = (gridH * pitch + kernels.nr - 1) / kernels.nr
        return Self.blocking(m: m, kc: Self.blockDepth(k: k, nr: kernels.nr), mr: kernels.mr, tiles: tilesPerImage,
                             units: batch * groups).mc
    }

    /// Packs A (`a`, as described above) into the panels `run(packedA:…)` reads.
    func packA(_ a: UnsafePointer<Float>, kernels: KernelTable, into packed: UnsafeMutablePointer<Float>) {
        packRowPanels(a, lda: lda, aStride: aGroupStride, entries: groups, m: m, k: k, mc: rowBlock(kernels),
                      mr: kernels.mr, into: packed)
    }

    /// Runs the problem, packing A first.
    func run(a: UnsafePointer<Float>, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
             bias: UnsafePointer<Float>?, kernels: KernelTable) {
        BufferCache.shared.with(max(groups * m * k, 1)) { packed in
            packA(a, kernels: kernels, into: packed)
            run(packedA: packed, src: src, dst: dst, bias: bias, kernels: kernels)
        }
    }

    /// Runs the problem with A already packed by ``packA(_:kernels:into:)`` for the same kernels
    /// and thread count.
    func run(packedA: UnsafePointer<Float>, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
             bias: UnsafePointer<Float>?, kernels: KernelTable) {
        guard m > 0, gridH > 0, pitch > 0, validW > 0, batch > 0, groups > 0 else { return }
        let nr = kernels.nr, mr = kernels.mr
        let positions = gridH * pitch
        let tilesPerImage = (positions + nr - 1) / nr
        let kc = Self.blockDepth(k: k, nr: nr)
        let blocking = Self.blocking(m: m, kc: kc, mr: mr, tiles: tilesPerImage, units: batch * groups)
        let mc = blocking.mc, mBlocks = (m + mc - 1) / mc
        let perImage = batch * groups * mBlocks
        let tileGroup = blocking.tileGroup, tileGroups = (tilesPerImage + tileGroup - 1) / tileGroup
        let gemmPacked = kernels.gemmPacked
        let problem = self
        let direct = contiguous
        bOffset.withUnsafeBufferPointer { bOffset in
            let offsets = bOffset.baseAddress!
            parallelFor(perImage * tileGroups) { range, scratch in
                scratch.reset()
                let packs = problem.sourceHasNoSlack
                let blockCount = mc * tileGroup * nr
                scratch.reserve(floats: blockCount + (packs ? problem.k * nr : 0))
                let block = scratch.floats(blockCount)
                let panel = packs ? scratch.floats(problem.k * nr) : block
                for item in range {
                    let tg = item % tileGroups
                    var rest = item / tileGroups
                    let mb = rest % mBlocks; rest /= mBlocks
                    let g = rest % problem.groups, n = rest / problem.groups
                    let r0 = mb * mc, rows = min(mc, problem.m - r0)
                    let t0 = tg * tileGroup, tiles = min(tileGroup, tilesPerImage - t0)
                    let j0 = t0 * nr
                    let count = min(tiles * nr, positions - j0)     // valid positions of the item
                    let source = src + n * problem.srcImageStride + g * problem.srcGroupStride
                    let out = dst + n * problem.dstImageStride + g * problem.dstGroupStride + problem.dstOffset
                    let aGroup = packedA + (g * problem.m + r0) * problem.k
                    let biasRows = bias.map { $0 + g * problem.m + r0 }
                    // C straight into the output when every tile is whole and the grid is the output.
                    let inPlace = direct && count == tiles * nr
                    let c = inPlace ? out + r0 * problem.dstRowStride + j0 : block
                    let ldc = inPlace ? problem.dstRowStride : tileGroup * nr
                    // A partial last tile of a source without slack is packed (zero-padded).
                    let partial = count < tiles * nr
                    let packed = packs && partial
                    if packed {
                        let jt = j0 + (tiles - 1) * nr, valid = positions - jt
                        for kk in 0..<problem.k {
                            let s = source + offsets[kk] + jt, d = panel + kk * nr
                            for j in 0..<valid { d[j] = s[j] }
                            for j in valid..<nr { d[j] = 0 }
                        }
                    }
                    if problem.k == 0 {
                        for r in 0..<rows {
                            for j in 0..<tiles * nr { c[r * ldc + j] = biasRows?[r] ?? 0 }
                        }
                    }
                    var k0 = 0
                    while k0 < problem.k {
                        let kcb = min(kc, problem.k - k0)
                        let accumulate: Int32 = k0 == 0 ? 0 : 1
                        for t in 0..<tiles {
                            let ct = c + t * nr
                            let usePanel = packed && t == tiles - 1
                            // Row tiles of (nearly) equal height (8 rows as 4 + 4, not 6 + 2), as packed.
                            let rowTiles = (rows + mr - 1) / mr
                            for tile in 0..<rowTiles {
                                let (r, mrows) = rowTile(tile, of: rowTiles, rows: rows)
                                let aTile = aGroup + r * problem.k + k0 * mrows
                                let rowBias = k0 == 0 ? biasRows.map { $0 + r } : nil
                                if usePanel {
                                    gemmPacked(mrows, nr, kcb, aTile, panel + k0 * nr, nr, nil, ct + r * ldc, ldc, 1,
                                               rowBias, accumulate)
                                } else {
                                    gemmPacked(mrows, nr, kcb, aTile, source + j0 + t * nr, 0, offsets + k0, ct + r * ldc, ldc, 1,
                                               rowBias, accumulate)
                                }
                            }
                        }
                        k0 += kcb
                    }
                    if !inPlace {
                        // Scatter the valid positions, one grid row segment at a time.
                        var y = j0 / problem.pitch, x = j0 % problem.pitch, j = 0
                        let dx = problem.dstX
                        while j < count {
                            let run = min(count - j, problem.pitch - x)
                            let valid = min(run, max(problem.validW - x, 0))
                            if valid > 0 {
                                let o = out + r0 * problem.dstRowStride + y * problem.dstY + x * dx
                                for r in 0..<rows {
                                    let from = block + r * ldc + j, to = o + r * problem.dstRowStride
                                    if dx == 1 {
                                        for i in 0..<valid { to[i] = from[i] }
                                    } else {
                                        for i in 0..<valid { to[i * dx] = from[i] }
                                    }
                                }
                            }
                            j += run
                            x = 0
                            y += 1
                        }
                    }
                }
            }
        }
    }
}
