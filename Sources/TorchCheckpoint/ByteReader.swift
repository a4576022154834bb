/// A bounds-checked cursor over a region of the file's bytes. Every read checks the remaining length first,
/// so hostile lengths produce `truncated` errors instead of traps. Offsets are absolute file offsets, which
/// is what error messages report.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    let path: String

    /// `region` must lie inside `bytes`; callers derive it from checked arithmetic.
    init(bytes: [UInt8], region: Range<Int>, path: String) {
        self.bytes = bytes
        let lower = min(max(region.lowerBound, 0), bytes.count)
        self.position = lower
        self.end = min(max(region.upperBound, lower), bytes.count)
        self.path = path
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position >= end }

    func truncated(_ what: String) -> TorchCheckpointError {
        TorchCheckpointError(path: path, problem: .truncated(what: what, offset: end))
    }

    mutating func u8(_ what: String) throws(TorchCheckpointError) -> UInt8 {
        guard position < end else { throw truncated(what) }
        defer { position += 1 }
        return bytes[position]
    }

    /// Reads `count` bytes as a little-endian unsigned integer (count <= 8).
    mutating func littleEndian(_ count: Int, _ what: String) throws(TorchCheckpointError) -> UInt64 {
        guard count >= 0, count <= 8, count <= remaining else { throw truncated(what) }
        var value: UInt64 = 0
        for index in 0..<count {
            value |= UInt64(bytes[position + index]) << (8 * UInt64(index))
        }
        position += count
        return value
    }

    mutating func u16(_ what: String) throws(TorchCheckpointError) -> UInt16 {
        UInt16(truncatingIfNeeded: try littleEndian(2, what))
    }

    mutating func u32(_ what: String) throws(TorchCheckpointError) -> UInt32 {
        UInt32(truncatingIfNeeded: try littleEndian(4, what))
    }

    mutating func u64(_ what: String) throws(TorchCheckpointError) -> UInt64 {
        try littleEndian(8, what)
    }

    /// Reads a byte count stored as an unsigned integer and checks it against what is left, so a forged
    /// length can neither overflow `Int` nor trigger a huge allocation.
    mutating func length(_ raw: UInt64, _ what: String) throws(TorchCheckpointError) -> Int {
        guard raw <= UInt64(remaining) else { throw truncated(what) }
        return Int(raw)
    }

    /// The next `count` bytes as a slice of the file (no copy).
    mutating func slice(_ count: Int, _ what: String) throws(TorchCheckpointError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw truncated(what) }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func skip(_ count: Int, _ what: String) throws(TorchCheckpointError) {
        guard count >= 0, count <= remaining else { throw truncated(what) }
        position += count
    }

    /// Bytes up to (not including) the next newline, which is consumed. Used by the text-line opcodes.
    mutating func line(_ what: String) throws(TorchCheckpointError) -> ArraySlice<UInt8> {
        var index = position
        while index < end, bytes[index] != 0x0A { index += 1 }
        guard index < end else { throw truncated(what) }
        defer { position = index + 1 }
        return bytes[position..<index]
    }
}
