import ConvKit
import Foundation
import Testing

@Suite("Tensor and .npy files")
struct TensorTests {
    @Test("shape validation, element access, reshape")
    func basics() throws {
        var t = try Tensor<Float>(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5])
        #expect(t[1, 2] == 5)
        #expect(t[-1, 0] == 3)
        t[0, 1] = 9
        #expect(t.scalars == [0, 9, 2, 3, 4, 5])
        #expect(t.strides == [3, 1])
        #expect(try t.reshaped([3, -1]).shape == [3, 2])
        #expect(throws: ConvKitError.self) { try t.reshaped([4, -1]) }
        #expect(throws: ConvKitError.self) { try t.reshaped([-1, -1]) }
        #expect(throws: ConvKitError.self) { try Tensor<Float>(shape: [2, 2], scalars: [1]) }
        #expect(throws: ConvKitError.self) { try Tensor<Float>(zeros: [-1]) }
    }

    @Test("copy on write: mutating a copy leaves the original")
    func copyOnWrite() throws {
        let a = try Tensor<Float>(shape: [2], scalars: [1, 2])
        var b = a
        b[0] = 7
        #expect(a.scalars == [1, 2])
        #expect(b.scalars == [7, 2])
    }

    static func npy(version: UInt8, header: String, payload: [UInt8]) -> Data {
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0])
        let length = header.utf8.count
        if version == 1 {
            data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        } else {
            data.append(contentsOf: (0..<4).map { UInt8((length >> (8 * $0)) & 0xFF) })
        }
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: payload)
        return data
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    @Test("round trip float32 and int64")
    func roundTrip() throws {
        let floats = try Tensor<Float>(shape: [2, 1, 3], scalars: [1.5, -2, 0, .infinity, 3e-8, 7])
        #expect(try Tensor<Float>(npyData: floats.npyData()) == floats)
        let ints = try Tensor<Int>(shape: [4], scalars: [0, -1, 1 << 40, 5])
        #expect(try Tensor<Int>(npyData: ints.npyData()) == ints)
        let scalar = try Tensor<Float>(shape: [], scalars: [4])
        #expect(try Tensor<Float>(npyData: scalar.npyData()) == scalar)
        #expect(floats.npyData().count % 64 == 24, "header padded to 64 bytes")
    }

    @Test("versions 2 and 3, float64 conversion, Fortran order, int32 indices")
    func formats() throws {
        let f8 = Self.npy(version: 2, header: "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n",
                          payload: Self.bytes([1.25, -2.5, 3.0] as [Double]))
        #expect(try Tensor<Float>(npyData: f8).scalars == [1.25, -2.5, 3])
        let v3 = Self.npy(version: 3, header: "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 2)}\n",
                          payload: Self.bytes([Float(1), 2]))
        #expect(try Tensor<Float>(npyData: v3).shape == [1, 2])
        // Fortran order: column-major storage of [[1, 2, 3], [4, 5, 6]].
        let fortran = Self.npy(version: 1, header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n",
                               payload: Self.bytes([Float(1), 4, 2, 5, 3, 6]))
        #expect(try Tensor<Float>(npyData: fortran).scalars == [1, 2, 3, 4, 5, 6])
        let i4 = Self.npy(version: 1, header: "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n",
                          payload: Self.bytes([Int32(3), -4]))
        #expect(try Tensor<Int>(npyData: i4).scalars == [3, -4])
    }

    @Test("malformed, truncated and wrong-dtype files are clear errors", arguments: [
        ("not npy", Data("hello world, not numpy".utf8)),
        ("truncated header", npy(version: 1, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", payload: []).prefix(20)),
        ("truncated data", npy(version: 1, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", payload: bytes([Float(1)]))),
        ("wrong dtype", npy(version: 1, header: "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }\n", payload: [0, 0])),
        ("big endian", npy(version: 1, header: "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", payload: [0, 0, 0, 0])),
        ("bad shape", npy(version: 1, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }\n", payload: [])),
        ("no shape", npy(version: 1, header: "{'descr': '<f4', 'fortran_order': False}\n", payload: [])),
        ("version 9", npy(version: 9, header: "{}", payload: [])),
        ("huge shape", npy(version: 1, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }\n", payload: [])),
    ])
    func rejects(_ label: String, _ data: Data) {
        #expect(throws: ConvKitError.self, "\(label)") { try Tensor<Float>(npyData: data) }
    }

    @Test("an int64 file is not read as float, nor float as indices")
    func dtypeMismatch() throws {
        let ints = try Tensor<Int>(shape: [1], scalars: [1])
        #expect(throws: ConvKitError.self) { try Tensor<Float>(npyData: ints.npyData()) }
        let floats = try Tensor<Float>(shape: [1], scalars: [1])
        #expect(throws: ConvKitError.self) { try Tensor<Int>(npyData: floats.npyData()) }
    }

    @Test("atomic writes leave nothing behind on failure")
    func atomicWrite() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.npy")
        let bad = directory.appendingPathComponent("missing-dir/bad.npy")
        #expect(throws: ConvKitError.self) { try AtomicFile.write([(good, Data([1])), (bad, Data([2]))]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        let t = try Tensor<Float>(shape: [2], scalars: [1, 2])
        try t.writeNPY(to: good)
        #expect(try Tensor<Float>(npyFile: good) == t)
    }
}
