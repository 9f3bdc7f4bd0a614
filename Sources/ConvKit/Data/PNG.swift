import Foundation

/// A grey image with values in [0, 1], row-major.
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Area-averaged (downscaling) / bilinear (upscaling) resize.
    public func resized(width newWidth: Int, height newHeight: Int) -> GrayImage {
        guard newWidth != width || newHeight != height else { return self }
        var out = [Float](repeating: 0, count: newWidth * newHeight)
        let sx = Double(width) / Double(newWidth), sy = Double(height) / Double(newHeight)
        for y in 0..<newHeight {
            for x in 0..<newWidth {
                if sx > 1 || sy > 1 {
                    // Average every source pixel the target pixel covers.
                    let x0 = Int(Double(x) * sx), x1 = max(x0 + 1, Int((Double(x + 1) * sx).rounded(.up)))
                    let y0 = Int(Double(y) * sy), y1 = max(y0 + 1, Int((Double(y + 1) * sy).rounded(.up)))
                    var sum: Float = 0, n = 0
                    for yy in y0..<min(y1, height) { for xx in x0..<min(x1, width) { sum += pixels[yy * width + xx]; n += 1 } }
                    out[y * newWidth + x] = sum / Float(max(n, 1))
                } else {
                    let fx = max(0, min(Double(width - 1), (Double(x) + 0.5) * sx - 0.5))
                    let fy = max(0, min(Double(height - 1), (Double(y) + 0.5) * sy - 0.5))
                    let x0 = Int(fx), y0 = Int(fy), x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
                    let ax = Float(fx - Double(x0)), ay = Float(fy - Double(y0))
                    let top = pixels[y0 * width + x0] * (1 - ax) + pixels[y0 * width + x1] * ax
                    let bottom = pixels[y1 * width + x0] * (1 - ax) + pixels[y1 * width + x1] * ax
                    out[y * newWidth + x] = top * (1 - ay) + bottom * ay
                }
            }
        }
        return GrayImage(width: newWidth, height: newHeight, pixels: out)
    }
}

/// A PNG decoder for non-interlaced images of any colour type, 8- or 16-bit (1/2/4-bit grey
/// and palette too), converted to grey (ITU-R 601 luma, alpha composited onto black).
public enum PNG {
    public static func decode(_ data: Data, name: String = "PNG data") throws -> GrayImage {
        func fail(_ message: String) -> ConvKitError { .file(path: name, message: message) }
        let bytes = [UInt8](data)
        guard bytes.count > 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw fail("not a PNG file (bad signature)")
        }
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
        var offset = 8
        var width = 0, height = 0, depth = 0, colorType = 0, interlace = 0
        var palette: [UInt8] = [], transparency: [UInt8] = [], compressed = Data()
        while offset + 8 <= bytes.count {
            let length = u32(offset), type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard offset + 12 + length <= bytes.count else { throw fail("truncated PNG chunk \(type)") }
            let body = bytes[(offset + 8)..<(offset + 8 + length)]
            switch type {
            case "IHDR":
                guard length >= 13 else { throw fail("bad IHDR chunk") }
                width = u32(offset + 8); height = u32(offset + 12)
                depth = Int(body[body.startIndex + 8]); colorType = Int(body[body.startIndex + 9]); interlace = Int(body[body.startIndex + 12])
            case "PLTE": palette = Array(body)
            case "tRNS": transparency = Array(body)
            case "IDAT": compressed.append(contentsOf: body)
            default: break
            }
            offset += 12 + length
            if type == "IEND" { break }
        }
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType] ?? 0
        guard width > 0, height > 0, width * height <= 1 << 26, channels > 0, [1, 2, 4, 8, 16].contains(depth) else {
            throw fail("unsupported PNG: \(width)×\(height), colour type \(colorType), bit depth \(depth)")
        }
        guard interlace == 0 else { throw fail("interlaced (Adam7) PNGs are not supported; save it without interlacing") }
        let raw = [UInt8](try Gzip.decompress(compressed, name: name))
        let bitsPerPixel = channels * depth, stride = (width * bitsPerPixel + 7) / 8, unit = max(1, bitsPerPixel / 8)
        guard raw.count >= height * (stride + 1) else { throw fail("truncated PNG image data") }
        var rows = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for i in 0..<stride {
                let x = raw[y * (stride + 1) + 1 + i]
                let a = i >= unit ? Int(rows[y * stride + i - unit]) : 0
                let b = y > 0 ? Int(rows[(y - 1) * stride + i]) : 0
                let c = (i >= unit && y > 0) ? Int(rows[(y - 1) * stride + i - unit]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw fail("bad PNG filter type \(filter) in row \(y)")
                }
                rows[y * stride + i] = UInt8((Int(x) + predictor) & 0xFF)
            }
        }
        let maxValue = Float((1 << depth) - 1)
        func sample(_ y: Int, _ index: Int) -> Float {
            if depth == 16 { return Float(Int(rows[y * stride + 2 * index]) << 8 | Int(rows[y * stride + 2 * index + 1])) / maxValue }
            if depth == 8 { return Float(rows[y * stride + index]) / maxValue }
            let bit = index * depth, byte = rows[y * stride + bit / 8]
            return Float((Int(byte) >> (8 - depth - bit % 8)) & ((1 << depth) - 1)) / maxValue
        }
        var pixels = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                var grey: Float, alpha: Float = 1
                switch colorType {
                case 0: grey = sample(y, x)
                case 4: grey = sample(y, 2 * x); alpha = sample(y, 2 * x + 1)
                case 3:
                    let entry = Int(sample(y, x) * maxValue)
                    guard 3 * entry + 2 < palette.count else { throw fail("palette index \(entry) out of range") }
                    grey = (0.299 * Float(palette[3 * entry]) + 0.587 * Float(palette[3 * entry + 1]) + 0.114 * Float(palette[3 * entry + 2])) / 255
                    if entry < transparency.count { alpha = Float(transparency[entry]) / 255 }
                default:
                    let base = channels * x
                    grey = 0.299 * sample(y, base) + 0.587 * sample(y, base + 1) + 0.114 * sample(y, base + 2)
                    if channels == 4 { alpha = sample(y, base + 3) }
                }
                pixels[y * width + x] = grey * alpha
            }
        }
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    /// Encodes a grey image as an 8-bit PNG (used for tests and examples).
    public static func encode(_ image: GrayImage) throws -> Data {
        var raw = [UInt8]()
        for y in 0..<image.height {
            raw.append(0)
            for x in 0..<image.width { raw.append(UInt8(max(0, min(255, (image.pixels[y * image.width + x] * 255).rounded())))) }
        }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            let length = withUnsafeBytes(of: UInt32(body.count).bigEndian) { Array($0) }
            let crc = withUnsafeBytes(of: UInt32(Gzip.crc32(typed)).bigEndian) { Array($0) }
            return length + typed + crc
        }
        let header = withUnsafeBytes(of: UInt32(image.width).bigEndian) { Array($0) }
            + withUnsafeBytes(of: UInt32(image.height).bigEndian) { Array($0) } + [8, 0, 0, 0, 0]
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
            + chunk("IDAT", [UInt8](try Gzip.compress(Data(raw)))) + chunk("IEND", [])
        return Data(png)
    }
}
