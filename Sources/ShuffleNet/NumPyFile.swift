import Foundation

/// Writes NumPy's `.npy` format, version 1.0 (numpy.lib.format): the magic `\x93NUMPY`, version bytes 1 0, a
/// little-endian uint16 header length, an ASCII dict literal padded with spaces and ending in a newline so
/// that the data starts on a multiple of 64 bytes, then the data in C order.
public enum NumPyFile {
    /// Bytes before the data, whatever the shape: the header is padded to this length (a multiple of 64 with
    /// room for any two 19-digit dimensions), so a writer that streams rows can leave it in place and rewrite it
    /// with the final row count.
    public static let float32MatrixHeaderSize = 128

    /// The `float32MatrixHeaderSize` bytes before the data of a `rows x columns` little-endian float32 (`<f4`) matrix.
    public static func float32MatrixHeader(rows: Int, columns: Int) -> Data {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        while 10 + header.utf8.count + 1 < float32MatrixHeaderSize { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        return data
    }

    /// The little-endian bytes of `row`, as they follow the header.
    public static func float32Bytes(_ row: [Float]) -> Data {
        var data = Data(capacity: 4 * row.count)
        for value in row {
            let bits = value.bitPattern.littleEndian
            data.append(contentsOf: [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                                     UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)])
        }
        return data
    }

    /// A row whose length is not the matrix's column count.
    public struct RaggedRowError: Error, CustomStringConvertible, Sendable, Equatable {
        /// The row's index.
        public let row: Int
        /// Its length.
        public let count: Int
        /// The matrix's columns.
        public let columns: Int
        /// For people.
        public var description: String { "row \(row) has \(count) values, the matrix has \(columns) columns" }
    }

    /// `rows x columns` little-endian float32 (`<f4`).
    /// - Throws: `RaggedRowError` when a row does not have `columns` values.
    public static func float32Matrix(_ rows: [[Float]], columns: Int) throws(RaggedRowError) -> Data {
        if let bad = rows.firstIndex(where: { $0.count != columns }) {
            throw RaggedRowError(row: bad, count: rows[bad].count, columns: columns)
        }
        var data = float32MatrixHeader(rows: rows.count, columns: columns)
        data.reserveCapacity(data.count + 4 * rows.count * columns)
        for row in rows { data.append(float32Bytes(row)) }
        return data
    }
}
