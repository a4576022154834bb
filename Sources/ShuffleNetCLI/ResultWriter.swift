import Foundation
import ShuffleNet
import ShuffleNetBatch

/// Writes encoded rows to stdout or to the `--output` file. Every row goes out in one `write(2)` as soon as
/// it exists (no buffering), so a reader sees it at once and a killed run leaves at most one torn row.
final class ResultWriter {
    let encoder: BatchRecordEncoder
    /// For messages: the file name, or "<stdout>".
    let name: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var wroteRecords = false

    private init(encoder: BatchRecordEncoder, name: String, descriptor: Int32, ownsDescriptor: Bool) {
        self.encoder = encoder
        self.name = name
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    static func standardOutput(encoder: BatchRecordEncoder) throws(BatchError) -> ResultWriter {
        let writer = ResultWriter(encoder: encoder, name: "<stdout>", descriptor: STDOUT_FILENO, ownsDescriptor: false)
        try writer.emit(encoder.header)
        return writer
    }

    /// A new output file (replacing any old one), or, with `resume`, the old one with its torn end cut off.
    static func file(_ path: String, encoder: BatchRecordEncoder, resume: ResumeLog?) throws(BatchError) -> ResultWriter {
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (resume == nil ? O_TRUNC : 0)
        let descriptor = open(path, flags, 0o644)
        guard descriptor >= 0 else { throw .outputUnwritable(path: path, reason: String(cString: strerror(errno))) }
        let writer = ResultWriter(encoder: encoder, name: path, descriptor: descriptor, ownsDescriptor: true)
        if let resume {
            guard ftruncate(descriptor, off_t(resume.validByteCount)) == 0 else {
                throw .outputUnwritable(path: path, reason: "cannot cut the torn last row: \(String(cString: strerror(errno)))")
            }
            if resume.needsHeader { try writer.emit(encoder.header) }
        } else {
            try writer.emit(encoder.header)
        }
        return writer
    }

    func write(_ record: BatchRecord) throws(BatchError) {
        try emit(encoder.encode(record, first: !wroteRecords))
        wroteRecords = true
    }

    func finish() throws(BatchError) {
        try emit(encoder.footer(wroteRecords: wroteRecords))
    }

    private func emit(_ text: String) throws(BatchError) {
        try writeAll(Array(text.utf8), to: descriptor, name: name)
    }
}

/// Writes all of `bytes` to `descriptor` (retrying short writes and EINTR); `name` is the file in errors.
func writeAll(_ bytes: [UInt8], to descriptor: Int32, name: String) throws(BatchError) {
    var rest = bytes[...]
    while !rest.isEmpty {
        let count = rest.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw .outputUnwritable(path: name, reason: String(cString: strerror(errno)))
        }
        rest = rest.dropFirst(count)
    }
}
