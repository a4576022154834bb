/// The pre-1.6 torch.save layout (Megvii's checkpoints use it), five pickles then raw storages:
///   magic number, protocol version 1001, sys_info dict, the object itself, the sorted list of storage keys,
///   then for each key in that list: an 8-byte little-endian element count and the storage's bytes.
enum LegacyFormat {
    /// 0x1950a86a20f9469cfc6c as the little-endian bytes of a LONG1.
    static let magicNumber: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let protocolVersion: Int64 = 1001

    static func decode(_ bytes: [UInt8], path: String) throws(TorchCheckpointError) -> DecodedCheckpoint {
        var unpickler = Unpickler(bytes: bytes, path: path)
        let fileEnd = bytes.count
        func header(_ reason: String) -> TorchCheckpointError {
            TorchCheckpointError(path: path, problem: .badHeader(reason: reason))
        }

        let magic = try unpickler.load(from: 0, to: fileEnd, what: "the magic number pickle")
        guard case .bigInt(let digits) = magic.value, digits == magicNumber else {
            throw header("the first pickle is a \(magic.value.typeName), not the magic number 0x1950a86a20f9469cfc6c")
        }
        let version = try unpickler.load(from: magic.end, to: fileEnd, what: "the protocol version pickle")
        guard case .int(let number) = version.value, number == protocolVersion else {
            throw header("protocol version is not \(protocolVersion)")
        }
        let systemInfo = try unpickler.load(from: version.end, to: fileEnd, what: "the sys_info pickle")
        guard case .dict(let infoIndex) = systemInfo.value else { throw header("sys_info is not a dict") }
        if case .bool(false)? = unpickler.heap.dicts[infoIndex].value(forString: "little_endian") {
            throw header("the file was written on a big-endian machine, which legacy files cannot describe portably")
        }

        let main = try unpickler.load(from: systemInfo.end, to: fileEnd, what: "the main pickle")
        let keyList = try unpickler.load(from: main.end, to: fileEnd, what: "the storage key list pickle")
        guard let keyValues = unpickler.heap.sequence(keyList.value) else {
            throw header("the storage key list is a \(keyList.value.typeName), not a list")
        }

        var storageBytes: [String: ArraySlice<UInt8>] = [:]
        var reader = ByteReader(bytes: bytes, region: keyList.end..<fileEnd, path: path)
        for keyValue in keyValues {
            let key = try unpickler.storageKey(keyValue, keyList.end)
            guard let declaration = unpickler.heap.storages[key] else {
                throw TorchCheckpointError(path: path, problem: .badStorage(key: key, reason: "listed for reading but no tensor declares it, so its element size is unknown"))
            }
            guard storageBytes[key] == nil else {
                throw TorchCheckpointError(path: path, problem: .badStorage(key: key, reason: "listed twice in the storage key list"))
            }
            let countOffset = reader.position
            let count = try reader.u64("the element count of storage '\(key)'")
            guard count == UInt64(declaration.elementCount) else {
                throw TorchCheckpointError(path: path, problem: .badStorage(key: key, reason: "byte \(countOffset) says \(count) elements, the pickle declared \(declaration.elementCount)"))
            }
            storageBytes[key] = try reader.slice(declaration.byteCount, "the \(declaration.byteCount) bytes of storage '\(key)'")
        }
        for key in unpickler.heap.storages.keys where storageBytes[key] == nil {
            throw TorchCheckpointError(path: path, problem: .badStorage(key: key, reason: "used by a tensor but missing from the storage key list"))
        }
        return DecodedCheckpoint(root: main.value, heap: unpickler.heap, storageBytes: storageBytes, bigEndian: false)
    }
}
