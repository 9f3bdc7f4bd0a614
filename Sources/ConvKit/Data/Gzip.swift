import CZlib
import Foundation

/// gzip / zlib decompression through the system zlib.
public enum Gzip {
    /// Inflates a gzip (or zlib) stream.
    /// - Throws: ``ConvKitError/file(path:message:)`` naming `name` if the data is not a valid
    ///   or complete stream.
    public static func decompress(_ data: Data, name: String = "gzip data") throws -> Data {
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ConvKitError.file(path: name, message: "cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                status = buffer.withUnsafeMutableBytes { out -> Int32 in
                    stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = uInt(chunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw ConvKitError.file(path: name, message: "corrupt compressed data (\(reason))")
                }
                output.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
                if status == Z_OK, stream.avail_in == 0, stream.avail_out != 0 {
                    throw ConvKitError.file(path: name, message: "truncated compressed data")
                }
            } while status != Z_STREAM_END
        }
        return output
    }

    /// Deflates `data` as a zlib stream.
    public static func compress(_ data: Data) throws -> Data {
        var length = compressBound(uLong(data.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = data.withUnsafeBytes { input in
            compress2(&output, &length, input.bindMemory(to: Bytef.self).baseAddress, uLong(data.count), Z_DEFAULT_COMPRESSION)
        }
        guard status == Z_OK else { throw ConvKitError.file(path: "zlib", message: "compression failed (error \(status))") }
        return Data(output[0..<Int(length)])
    }

    /// The CRC-32 of `bytes` (as PNG chunks and gzip use).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        UInt32(CZlib.crc32(0, bytes, uInt(bytes.count)))
    }
}
