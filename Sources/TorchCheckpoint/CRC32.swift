/// CRC-32 (the zip / IEEE 802.3 polynomial), used to verify stored zip entries: an uncompressed entry has
/// no other integrity check, and a flipped bit in a weight would otherwise load silently.
enum CRC32 {
    /// Slicing-by-8 tables: 8 x 256 entries, table k advances the CRC by k extra zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            tables[byte] = crc
        }
        for byte in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[(slice - 1) * 256 + byte]
                tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    static func checksum(_ data: ArraySlice<UInt8>) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            data.withUnsafeBufferPointer { buffer in
                var crc: UInt32 = 0xFFFF_FFFF
                var index = 0
                let count = buffer.count
                while index + 8 <= count {
                    let low = crc ^ (UInt32(buffer[index]) | UInt32(buffer[index + 1]) << 8
                        | UInt32(buffer[index + 2]) << 16 | UInt32(buffer[index + 3]) << 24)
                    crc = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                        ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                        ^ table[3 * 256 + Int(buffer[index + 4])] ^ table[2 * 256 + Int(buffer[index + 5])]
                        ^ table[1 * 256 + Int(buffer[index + 6])] ^ table[Int(buffer[index + 7])]
                    index += 8
                }
                while index < count {
                    crc = (crc >> 8) ^ table[Int((crc ^ UInt32(buffer[index])) & 0xFF)]
                    index += 1
                }
                return ~crc
            }
        }
    }
}
