/// The torch >= 1.6 layout: a zip of stored entries under one folder (`archive/` or the file's stem):
///   <folder>/data.pkl      the object, with persistent ids ('storage', type, key, location, numel)
///   <folder>/data/<key>    each storage's raw bytes
///   <folder>/byteorder     "little" or "big" (absent in files from before torch 2.1: little)
///   <folder>/version       format version (not needed to read the weights)
enum ZipFormat {
    static func decode(_ bytes: [UInt8], path: String) throws(TorchCheckpointError) -> DecodedCheckpoint {
        let archive = try ZipArchive(bytes: bytes, path: path)
        // Like torch's reader: the folder is whatever the first entry lives in.
        guard let first = archive.entries.first, let slash = first.name.firstIndex(of: "/") else {
            throw TorchCheckpointError(path: path, problem: .notACheckpoint(reason: "a zip whose first entry is not inside a folder"))
        }
        let folder = String(first.name[..<slash])
        guard let pickleEntry = archive.entry(named: "\(folder)/data.pkl") else {
            throw TorchCheckpointError(path: path, problem: .notACheckpoint(reason: "a zip without \(folder)/data.pkl"))
        }

        var bigEndian = false
        if let orderEntry = archive.entry(named: "\(folder)/byteorder") {
            let range = try archive.dataRange(of: orderEntry)
            switch String(decoding: bytes[range], as: UTF8.self) {
            case "little": bigEndian = false
            case "big": bigEndian = true
            case let other:
                throw TorchCheckpointError(path: path, problem: .badZip(reason: "byteorder record says '\(other.prefix(20))'", offset: range.lowerBound))
            }
        }

        let pickleRange = try archive.dataRange(of: pickleEntry)
        var unpickler = Unpickler(bytes: bytes, path: path)
        let root = try unpickler.load(from: pickleRange.lowerBound, to: pickleRange.upperBound, what: "\(folder)/data.pkl")

        var storageBytes: [String: ArraySlice<UInt8>] = [:]
        for (key, declaration) in unpickler.heap.storages {
            guard let entry = archive.entry(named: "\(folder)/data/\(key)") else {
                throw TorchCheckpointError(path: path, problem: .badStorage(key: key, reason: "no \(folder)/data/\(key) entry in the zip"))
            }
            let range = try archive.dataRange(of: entry)
            guard range.count == declaration.byteCount else {
                throw TorchCheckpointError(path: path, problem: .badStorage(key: key, reason: "entry holds \(range.count) bytes, the pickle declared \(declaration.elementCount) \(declaration.dtype) (\(declaration.byteCount) bytes)"))
            }
            storageBytes[key] = bytes[range]
        }
        return DecodedCheckpoint(root: root.value, heap: unpickler.heap, storageBytes: storageBytes, bigEndian: bigEndian)
    }
}
