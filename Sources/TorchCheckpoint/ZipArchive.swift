/// A read-only view of a zip archive held in memory: the central directory (zip64 aware) and the byte
/// range of each stored entry. Only what torch.save produces is accepted: one disk, stored (uncompressed),
/// unencrypted entries. Every offset and size from the file is checked before use.
///
/// Kept instead of ZIPFoundation (weichsel/ZIPFoundation 0.9.20, in the offline package set), measured on
/// 2026-12-04 with a throwaway program that opened each file with `Archive(data:accessMode: .read)` and extracted
/// every entry with CRC checks: ZIPFoundation trapped ("Range requires lowerBound <= upperBound" in
/// `Archive.MemoryFile.readData`) on the valid zip64 fixture `tiny_zip64.pth` and on 58 of the 4,210 single-byte
/// flips of `tiny_zip.pth`, where this reader reads the first and never traps on the flips: each loads or gives an
/// error (CorruptInputTests, HostileCheckpointTests). A checkpoint is untrusted input, and a trap would take the
/// whole process down.
struct ZipArchive {
    struct Entry {
        let name: String
        let flags: UInt16
        let method: UInt16
        let crc32: UInt32
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    static let localHeaderSignature: UInt32 = 0x0403_4B50
    private static let centralHeaderSignature: UInt32 = 0x0201_4B50
    private static let endSignature: UInt32 = 0x0605_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let endRecordSize = 22
    private static let centralHeaderSize = 46

    let bytes: [UInt8]
    let path: String
    private(set) var entries: [Entry] = []
    private var entryIndexByName: [String: Int] = [:]
    /// Entry data must end before the central directory starts.
    private let centralDirectoryOffset: Int

    init(bytes: [UInt8], path: String) throws(TorchCheckpointError) {
        self.bytes = bytes
        self.path = path
        let end = try Self.findEndRecord(bytes, path)
        var directory = try Self.readEndRecord(bytes, path, at: end)
        if let zip64 = try Self.readZip64EndRecord(bytes, path, endRecordAt: end) { directory = zip64 }

        let (directoryEnd, overflowed) = directory.offset.addingReportingOverflow(directory.size)
        guard !overflowed, directory.offset >= 0, directory.size >= 0, directoryEnd <= directory.limit else {
            throw TorchCheckpointError(path: path, problem: .badZip(reason: "central directory [\(directory.offset), +\(directory.size)) lies outside the file", offset: end))
        }
        // Each entry needs at least 46 bytes, which bounds the loop below by the file size.
        guard directory.entryCount <= directory.size / Self.centralHeaderSize else {
            throw TorchCheckpointError(path: path, problem: .badZip(reason: "\(directory.entryCount) entries cannot fit in a \(directory.size)-byte central directory", offset: end))
        }
        centralDirectoryOffset = directory.offset
        var reader = ByteReader(bytes: bytes, region: directory.offset..<directoryEnd, path: path)
        for _ in 0..<directory.entryCount {
            let entry = try Self.readCentralHeader(&reader)
            guard entryIndexByName[entry.name] == nil else {
                throw TorchCheckpointError(path: path, problem: .badZip(reason: "entry '\(entry.name)' appears twice", offset: reader.position))
            }
            entryIndexByName[entry.name] = entries.count
            entries.append(entry)
        }
    }

    func entry(named name: String) -> Entry? {
        entryIndexByName[name].map { entries[$0] }
    }

    /// The file range holding `entry`'s data, after checking its local header, method and CRC.
    func dataRange(of entry: Entry) throws(TorchCheckpointError) -> Range<Int> {
        func fail(_ reason: String) -> TorchCheckpointError {
            TorchCheckpointError(path: path, problem: .badZip(reason: "entry '\(entry.name)': \(reason)", offset: entry.localHeaderOffset))
        }
        guard entry.flags & 1 == 0 else { throw fail("encrypted entries are not supported") }
        guard entry.method == 0 else {
            throw TorchCheckpointError(path: path, problem: .compressedEntry(name: entry.name, method: Int(entry.method)))
        }
        guard entry.compressedSize == entry.uncompressedSize else {
            throw fail("stored entry with compressed size \(entry.compressedSize) != size \(entry.uncompressedSize)")
        }
        guard entry.localHeaderOffset < centralDirectoryOffset else { throw fail("local header offset past the central directory") }
        var reader = ByteReader(bytes: bytes, region: entry.localHeaderOffset..<centralDirectoryOffset, path: path)
        guard try reader.u32("a local file header") == Self.localHeaderSignature else { throw fail("no local file header signature") }
        try reader.skip(22, "a local file header")
        let nameLength = Int(try reader.u16("a local file header"))
        let extraLength = Int(try reader.u16("a local file header"))
        // torch pads the local extra field ("FB" records) so data is 64-byte aligned; skip what it says.
        try reader.skip(nameLength + extraLength, "a local file name and extra field")
        let start = reader.position
        guard entry.compressedSize <= reader.remaining else { throw fail("data runs past the central directory") }
        let range = start..<(start + entry.compressedSize)
        let actual = CRC32.checksum(bytes[range])
        guard actual == entry.crc32 else {
            throw fail("CRC-32 is 0x\(String(actual, radix: 16)), the directory says 0x\(String(entry.crc32, radix: 16)) (corrupt data)")
        }
        return range
    }

    // MARK: - Central directory

    private struct Directory {
        var entryCount: Int
        var size: Int
        var offset: Int
        /// Where the directory must end (the start of the end records).
        var limit: Int
    }

    /// Scans backwards for the end-of-central-directory record; its comment (torch writes none) must fit.
    private static func findEndRecord(_ bytes: [UInt8], _ path: String) throws(TorchCheckpointError) -> Int {
        guard bytes.count >= endRecordSize else {
            throw TorchCheckpointError(path: path, problem: .badZip(reason: "too short to hold an end-of-central-directory record", offset: bytes.count))
        }
        let lowest = max(0, bytes.count - endRecordSize - 0xFFFF)
        var candidate = bytes.count - endRecordSize
        while candidate >= lowest {
            if bytes[candidate] == 0x50, bytes[candidate + 1] == 0x4B, bytes[candidate + 2] == 0x05, bytes[candidate + 3] == 0x06 {
                let commentLength = Int(bytes[candidate + 20]) | Int(bytes[candidate + 21]) << 8
                if candidate + endRecordSize + commentLength <= bytes.count { return candidate }
            }
            candidate -= 1
        }
        throw TorchCheckpointError(path: path, problem: .badZip(reason: "no end-of-central-directory record (truncated archive?)", offset: bytes.count))
    }

    private static func readEndRecord(_ bytes: [UInt8], _ path: String, at offset: Int) throws(TorchCheckpointError) -> Directory {
        var reader = ByteReader(bytes: bytes, region: offset..<bytes.count, path: path)
        try reader.skip(4, "the end record")
        let disk = try reader.u16("the end record"), directoryDisk = try reader.u16("the end record")
        let entriesOnDisk = try reader.u16("the end record"), entryCount = try reader.u16("the end record")
        let size = try reader.u32("the end record"), directoryOffset = try reader.u32("the end record")
        guard disk == 0 || disk == 0xFFFF, directoryDisk == 0 || directoryDisk == 0xFFFF, entriesOnDisk == entryCount else {
            throw TorchCheckpointError(path: path, problem: .badZip(reason: "multi-disk archives are not supported", offset: offset))
        }
        return Directory(entryCount: Int(entryCount), size: Int(size), offset: Int(directoryOffset), limit: offset)
    }

    /// torch writes zip64 end records (miniz with MZ_ZIP_FLAG_WRITE_ZIP64); when the locator is present
    /// its 64-bit counts replace the 16/32-bit ones.
    private static func readZip64EndRecord(_ bytes: [UInt8], _ path: String, endRecordAt end: Int) throws(TorchCheckpointError) -> Directory? {
        guard end >= 20 else { return nil }
        var locator = ByteReader(bytes: bytes, region: (end - 20)..<end, path: path)
        guard try locator.u32("the zip64 locator") == zip64LocatorSignature else { return nil }
        try locator.skip(4, "the zip64 locator")
        let recordOffset = try locator.u64("the zip64 locator")
        guard recordOffset <= UInt64(end - 20) else {
            throw TorchCheckpointError(path: path, problem: .badZip(reason: "zip64 end record offset \(recordOffset) is past its locator", offset: end - 20))
        }
        let start = Int(recordOffset)
        var reader = ByteReader(bytes: bytes, region: start..<(end - 20), path: path)
        guard try reader.u32("the zip64 end record") == zip64EndSignature else {
            throw TorchCheckpointError(path: path, problem: .badZip(reason: "no zip64 end record where the locator points", offset: start))
        }
        try reader.skip(8 + 2 + 2, "the zip64 end record") // record size, versions
        let disk = try reader.u32("the zip64 end record"), directoryDisk = try reader.u32("the zip64 end record")
        let entriesOnDisk = try reader.u64("the zip64 end record"), entryCount = try reader.u64("the zip64 end record")
        let size = try reader.u64("the zip64 end record"), directoryOffset = try reader.u64("the zip64 end record")
        guard disk == 0, directoryDisk == 0, entriesOnDisk == entryCount else {
            throw TorchCheckpointError(path: path, problem: .badZip(reason: "multi-disk archives are not supported", offset: start))
        }
        // Anything larger than the file is rejected by the directory bounds check; clamp to keep Int safe.
        let cap = UInt64(bytes.count) + 1
        return Directory(entryCount: Int(min(entryCount, cap)), size: Int(min(size, cap)), offset: Int(min(directoryOffset, cap)), limit: start)
    }

    private static func readCentralHeader(_ reader: inout ByteReader) throws(TorchCheckpointError) -> Entry {
        let headerOffset = reader.position
        func fail(_ reason: String) -> TorchCheckpointError {
            TorchCheckpointError(path: reader.path, problem: .badZip(reason: reason, offset: headerOffset))
        }
        guard try reader.u32("a central directory header") == centralHeaderSignature else {
            throw fail("missing central directory header signature")
        }
        try reader.skip(4, "a central directory header") // versions
        let flags = try reader.u16("a central directory header")
        let method = try reader.u16("a central directory header")
        try reader.skip(4, "a central directory header") // time, date
        let crc = try reader.u32("a central directory header")
        var compressedSize = UInt64(try reader.u32("a central directory header"))
        var uncompressedSize = UInt64(try reader.u32("a central directory header"))
        let nameLength = Int(try reader.u16("a central directory header"))
        let extraLength = Int(try reader.u16("a central directory header"))
        let commentLength = Int(try reader.u16("a central directory header"))
        try reader.skip(8, "a central directory header") // disk, attributes
        var localHeaderOffset = UInt64(try reader.u32("a central directory header"))
        let nameBytes = try reader.slice(nameLength, "a central directory file name")
        guard let name = String(validating: nameBytes, as: UTF8.self) else { throw fail("entry name is not UTF-8") }

        // Zip64 extended information (id 1) holds, in this order, each field saturated at 0xFFFFFFFF above.
        var extra = ByteReader(bytes: reader.bytes, region: reader.position..<(reader.position + min(extraLength, reader.remaining)), path: reader.path)
        try reader.skip(extraLength, "a central directory extra field")
        while extra.remaining >= 4 {
            let id = try extra.u16("an extra field")
            let size = Int(try extra.u16("an extra field"))
            var field = ByteReader(bytes: extra.bytes, region: extra.position..<(extra.position + min(size, extra.remaining)), path: reader.path)
            try extra.skip(size, "an extra field")
            guard id == 1 else { continue }
            if uncompressedSize == 0xFFFF_FFFF { uncompressedSize = try field.u64("a zip64 size") }
            if compressedSize == 0xFFFF_FFFF { compressedSize = try field.u64("a zip64 size") }
            if localHeaderOffset == 0xFFFF_FFFF { localHeaderOffset = try field.u64("a zip64 offset") }
        }
        try reader.skip(commentLength, "a central directory comment")

        let fileSize = UInt64(reader.bytes.count)
        guard compressedSize <= fileSize, localHeaderOffset < fileSize else {
            throw fail("entry '\(name)' claims sizes or offsets beyond the \(fileSize)-byte file")
        }
        return Entry(name: name, flags: flags, method: method, crc32: crc, compressedSize: Int(compressedSize),
                     uncompressedSize: Int(min(uncompressedSize, UInt64(Int.max))), localHeaderOffset: Int(localHeaderOffset))
    }
}
