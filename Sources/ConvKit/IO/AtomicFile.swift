import Foundation

/// Writes files so that a failure leaves nothing behind: every file is first written to a
/// temporary sibling, and only when all are complete are they renamed into place.
public enum AtomicFile {
    /// Writes each `(url, data)` pair; if any write fails, no new file remains.
    public static func write(_ files: [(URL, Data)]) throws {
        let manager = FileManager.default
        var temporaries: [URL] = []
        do {
            for (url, data) in files {
                let temporary = url.deletingLastPathComponent()
                    .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
                do { try data.write(to: temporary) } catch {
                    throw ConvKitError.file(path: url.path, message: "cannot write file (\(error.localizedDescription))")
                }
                temporaries.append(temporary)
            }
            for ((url, _), temporary) in zip(files, temporaries) {
                if rename(temporary.path, url.path) != 0 {
                    throw ConvKitError.file(path: url.path, message: "cannot move the written file into place (errno \(errno))")
                }
            }
        } catch {
            for temporary in temporaries { try? manager.removeItem(at: temporary) }
            throw error
        }
    }
}
