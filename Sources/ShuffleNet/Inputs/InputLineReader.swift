#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads records ending in `separator` from a file descriptor, as they arrive (a producer such as `find`
/// may still be running), without ever holding more than one chunk and one record.
final class InputLineReader {
    private let descriptor: Int32
    private let separator: UInt8
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false

    init(descriptor: Int32, separator: UInt8) {
        self.descriptor = descriptor
        self.separator = separator
    }

    /// The next record without its separator (a last record without one counts too); nil at end of input.
    func next() throws(BatchError) -> String? {
        while true {
            if let end = buffer[position...].firstIndex(of: separator) {
                let record = buffer[position..<end]
                position = end + 1
                return decode(record)
            }
            if atEnd {
                guard position < buffer.count else { return nil }
                let record = buffer[position...]
                position = buffer.count
                return decode(record)
            }
            try fill()
        }
    }

    private func fill() throws(BatchError) {
        buffer.removeFirst(position)
        position = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return
            }
            if count == 0 {
                atEnd = true
                return
            }
            if errno == EINTR { continue }
            throw .standardInputUnreadable(reason: String(cString: strerror(errno)))
        }
    }

    /// Newline-separated lists from Windows tools end lines in CR LF; the CR is not part of the path.
    private func decode(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        if separator == UInt8(ascii: "\n"), slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
        return String(decoding: slice, as: UTF8.self)
    }
}
