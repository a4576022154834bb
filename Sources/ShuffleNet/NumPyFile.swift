import Foundation

/// Writes NumPy's `.npy` format, version 1.0 (numpy.lib.format): the magic `\x93NUMPY`, version bytes 1 0, a
/// little-endian uint16 header length, an ASCII dict literal padded with spaces and ending in a newline so
/// that the data starts on a multiple of 64 bytes, then the data in C order.
public enum NumPyFile {
    /// `rows x columns` little-endian float32 (`<f4`); every row must have `columns` values.
    public static func float32Matrix(_ rows: [[Float]], columns: Int) -> Data {
        precondition(rows.allSatisfy { $0.count == columns })
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows.count), \(columns)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.reserveCapacity(data.count + 4 * rows.count * columns)
        for row in rows {
            for value in row {
                let bits = value.bitPattern.littleEndian
                data.append(contentsOf: [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                                         UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)])
            }
        }
        return data
    }
}
