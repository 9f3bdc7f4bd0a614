import Foundation

/// Element types that ConvKit reads from and writes to NumPy `.npy` files.
public protocol NPYScalar {
    /// The dtype written for this type (`<f4`, `<f8`, `<i8`).
    static var npyDescr: String { get }
    /// The dtypes read into this type.
    static var npyAcceptedDescrs: [String] { get }
    /// Decodes `count` little-endian elements of dtype `descr`, or returns `nil` if the dtype is not accepted.
    static func npyDecode(descr: String, bytes: UnsafeRawBufferPointer, count: Int) -> [Self]?
    /// Appends the little-endian encoding of `values` to `data`.
    static func npyEncode(_ values: [Self], into data: inout Data)
}

private func decodeLittleEndian<Stored: FixedWidthInteger, Out>(
    _: Stored.Type, _ bytes: UnsafeRawBufferPointer, _ count: Int, _ convert: (Stored) -> Out
) -> [Out] {
    (0..<count).map { i in
        convert(Stored(littleEndian: bytes.loadUnaligned(fromByteOffset: i * MemoryLayout<Stored>.size, as: Stored.self)))
    }
}

private func decodeFloating<Out: BinaryFloatingPoint>(descr: String, _ bytes: UnsafeRawBufferPointer, _ count: Int) -> [Out]? {
    switch descr {
    case "<f4": return decodeLittleEndian(UInt32.self, bytes, count) { Out(Float(bitPattern: $0)) }
    case "<f8": return decodeLittleEndian(UInt64.self, bytes, count) { Out(Double(bitPattern: $0)) }
    default: return nil
    }
}

extension Float: NPYScalar {
    public static var npyDescr: String { "<f4" }
    public static var npyAcceptedDescrs: [String] { ["<f4", "<f8"] }
    public static func npyDecode(descr: String, bytes: UnsafeRawBufferPointer, count: Int) -> [Float]? {
        decodeFloating(descr: descr, bytes, count)
    }
    public static func npyEncode(_ values: [Float], into data: inout Data) {
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    }
}

extension Double: NPYScalar {
    public static var npyDescr: String { "<f8" }
    public static var npyAcceptedDescrs: [String] { ["<f4", "<f8"] }
    public static func npyDecode(descr: String, bytes: UnsafeRawBufferPointer, count: Int) -> [Double]? {
        decodeFloating(descr: descr, bytes, count)
    }
    public static func npyEncode(_ values: [Double], into data: inout Data) {
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    }
}

extension Int: NPYScalar {
    public static var npyDescr: String { "<i8" }
    public static var npyAcceptedDescrs: [String] { ["<i8", "<i4"] }
    public static func npyDecode(descr: String, bytes: UnsafeRawBufferPointer, count: Int) -> [Int]? {
        switch descr {
        case "<i8": return decodeLittleEndian(UInt64.self, bytes, count) { Int(Int64(bitPattern: $0)) }
        case "<i4": return decodeLittleEndian(UInt32.self, bytes, count) { Int(Int32(bitPattern: $0)) }
        default: return nil
        }
    }
    public static func npyEncode(_ values: [Int], into data: inout Data) {
        for value in values { withUnsafeBytes(of: Int64(value).littleEndian) { data.append(contentsOf: $0) } }
    }
}

extension Tensor where Scalar: NPYScalar {
    /// Reads a NumPy `.npy` file (format versions 1–3, C or Fortran order).
    ///
    /// `Tensor<Float>` accepts little-endian float32 and float64 (converted); `Tensor<Int>`
    /// accepts int64 and int32.
    /// - Throws: ``ConvKitError/file(path:message:)`` for a missing, malformed, truncated or
    ///   wrong-dtype file.
    public init(npyFile url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConvKitError.file(path: url.path, message: "cannot read file (\(error.localizedDescription))")
        }
        try self.init(npyData: data, name: url.path)
    }

    /// Decodes the bytes of a `.npy` file; `name` is used in error messages.
    public init(npyData data: Data, name: String = "npy data") throws {
        func fail(_ message: String) -> ConvKitError { .file(path: name, message: message) }
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("not a .npy file (missing the \\x93NUMPY magic string)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail(".npy format version \(major).\(bytes[7]) is not supported (versions 1, 2 and 3 are)")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1)
        else { throw fail("truncated .npy header (\(headerLength) bytes announced, \(bytes.count - headerStart) present)") }
        let fields = try NPYHeader(parsing: header, fail: fail)
        guard Scalar.npyAcceptedDescrs.contains(fields.descr) else {
            throw fail("dtype '\(fields.descr)' is not supported here (expected one of \(Scalar.npyAcceptedDescrs.map { "'\($0)'" }.joined(separator: ", ")))")
        }
        let count = fields.shape.reduce(1, *)
        let itemSize = Int(fields.descr.dropFirst(2)) ?? 0
        let payload = bytes.count - headerStart - headerLength
        guard payload >= count * itemSize else {
            throw fail("truncated data: shape \(fields.shape) of \(fields.descr) needs \(count * itemSize) bytes, file has \(payload)")
        }
        let decoded: [Scalar]? = bytes.withUnsafeBytes { raw in
            Scalar.npyDecode(descr: fields.descr,
                             bytes: UnsafeRawBufferPointer(rebasing: raw[(headerStart + headerLength)...]),
                             count: count)
        }
        guard let values = decoded else { throw fail("dtype '\(fields.descr)' could not be decoded") }
        let tensor = Tensor(uncheckedShape: fields.shape, scalars: values)
        self = fields.fortranOrder ? tensor.fromFortranOrder() : tensor
    }

    /// The `.npy` (version 1.0, C order) encoding of this tensor.
    public func npyData() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(Scalar.npyDescr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        Scalar.npyEncode(scalars, into: &data)
        return data
    }

    /// Writes the tensor as a `.npy` file atomically: on failure no file is left behind.
    public func writeNPY(to url: URL) throws {
        try AtomicFile.write([(url, npyData())])
    }

    /// Reorders elements stored column-major (Fortran order) into row-major order.
    private func fromFortranOrder() -> Tensor {
        guard rank > 1 else { return self }
        // Column-major storage of shape S is row-major storage of reversed(S), transposed.
        let reversedShape = Array(shape.reversed())
        var reversedStrides = Array(repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            reversedStrides[axis] = reversedStrides[axis + 1] * reversedShape[axis + 1]
        }
        var result = scalars
        var index = Array(repeating: 0, count: rank)
        for flat in 0..<count {
            var source = 0
            for axis in 0..<rank { source += index[axis] * reversedStrides[rank - 1 - axis] }
            result[flat] = scalars[source]
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(uncheckedShape: shape, scalars: result)
    }
}

/// The fields of a `.npy` header dictionary, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
private struct NPYHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    init(parsing header: String, fail: (String) -> ConvKitError) throws {
        func value(of key: String) -> Substring? {
            guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\""),
                  let colon = header[keyRange.upperBound...].firstIndex(of: ":") else { return nil }
            return header[header.index(after: colon)...].drop { $0 == " " }
        }
        guard let descrText = value(of: "descr"), let quote = descrText.first, quote == "'" || quote == "\"",
              let end = descrText.dropFirst().firstIndex(of: quote)
        else { throw fail("malformed .npy header: no 'descr' (\(header.trimmingCharacters(in: .whitespacesAndNewlines)))") }
        descr = String(descrText[descrText.index(after: descrText.startIndex)..<end])
        if descr.hasPrefix("|") || descr.hasPrefix("=") { descr = "<" + descr.dropFirst() }
        if descr.hasPrefix(">") && descr.count > 2 {
            throw fail("big-endian dtype '\(descr)' is not supported (write little-endian '<\(descr.dropFirst())')")
        }
        guard let fortranText = value(of: "fortran_order") else {
            throw fail("malformed .npy header: no 'fortran_order'")
        }
        if fortranText.hasPrefix("True") { fortranOrder = true }
        else if fortranText.hasPrefix("False") { fortranOrder = false }
        else { throw fail("malformed .npy header: fortran_order is neither True nor False") }
        guard let shapeText = value(of: "shape"), shapeText.first == "(",
              let close = shapeText.firstIndex(of: ")")
        else { throw fail("malformed .npy header: no 'shape' tuple") }
        let items = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        shape = try items.map { item in
            guard let size = Int(item), size >= 0 else { throw fail("malformed .npy header: shape entry '\(item)'") }
            return size
        }
        // Guard against absurd shapes before multiplying (overflow) or allocating.
        var total = 1
        for size in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow, product <= 1 << 40 else { throw fail("shape \(shape) is too large") }
            total = product
        }
    }
}
