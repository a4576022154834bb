/// Hand-assembled pickle programs for hostile-input tests, wrapped in a legacy torch.save header.
/// Opcode bytes are from CPython's Lib/pickle.py.
enum PickleBytes {
    static let proto2: [UInt8] = [0x80, 0x02]
    static let stop: UInt8 = 0x2E
    /// Pickle of the magic number 0x1950a86a20f9469cfc6c (LONG1, 10 bytes).
    static let magic: [UInt8] = proto2 + [0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, stop]
    /// Pickle of 1001 (BININT2).
    static let protocolVersion: [UInt8] = proto2 + [0x4D, 0xE9, 0x03, stop]
    /// Pickle of {} standing in for sys_info.
    static let systemInfo: [UInt8] = proto2 + [0x7D, stop]
    /// Pickle of [] (no storages).
    static let noStorageKeys: [UInt8] = proto2 + [0x5D, stop]

    /// A legacy file whose main pickle is `body` (PROTO 2 and STOP added), then `tail`.
    static func legacyFile(_ body: [UInt8], tail: [UInt8] = noStorageKeys) -> [UInt8] {
        magic + protocolVersion + systemInfo + proto2 + body + [stop] + tail
    }

    static func global(_ module: String, _ name: String) -> [UInt8] {
        [0x63] + Array(module.utf8) + [0x0A] + Array(name.utf8) + [0x0A]
    }

    static func string(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return [0x8C, UInt8(utf8.count)] + utf8 // SHORT_BINUNICODE
    }

    /// BININT (4-byte signed) or LONG1 for anything wider.
    static func int(_ value: Int64) -> [UInt8] {
        if let small = Int32(exactly: value) {
            return [0x4A] + withUnsafeBytes(of: small.littleEndian) { Array($0) }
        }
        return [0x8A, 8] + withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func tuple(_ items: [[UInt8]]) -> [UInt8] {
        [0x28] + items.flatMap { $0 } + [0x74] // MARK ... TUPLE
    }

    /// `_rebuild_tensor_v2(('storage', torch.FloatStorage, key, 'cpu', numel, None), offset, shape, strides, False, OrderedDict())`.
    static func tensor(key: String = "0", numel: Int64, offset: Int64 = 0, shape: [Int64], strides: [Int64]) -> [UInt8] {
        let persistentID = tuple([string("storage"), global("torch", "FloatStorage"), string(key), string("cpu"), int(numel), [0x4E]]) + [0x51]
        let hooks = global("collections", "OrderedDict") + [0x29, 0x52]
        let arguments = tuple([persistentID, int(offset), tuple(shape.map(int)), tuple(strides.map(int)), [0x89], hooks])
        return global("torch._utils", "_rebuild_tensor_v2") + arguments + [0x52]
    }

    /// {name: tensor} followed by a storage key list and the float32 storage `values` under key "0".
    static func singleTensorFile(_ tensorPickle: [UInt8], values: [Float]) -> [UInt8] {
        let body = [0x7D] + string("w") + tensorPickle + [0x73] // EMPTY_DICT key value SETITEM
        let keys = proto2 + [0x5D] + string("0") + [0x61, stop] // ['0']
        var storage = withUnsafeBytes(of: Int64(values.count).littleEndian) { Array($0) }
        for value in values { storage += withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        return legacyFile(body, tail: keys + storage)
    }
}
