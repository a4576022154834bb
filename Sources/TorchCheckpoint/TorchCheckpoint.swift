/// Reads PyTorch `torch.save` checkpoints (the legacy pickle stream and the torch >= 1.6 zip) into named
/// tensors, without Python. Only tensors and plain containers are reconstructed; nothing is executed.
public enum TorchCheckpoint {
    /// Every tensor reachable in the file, by dotted name ("state_dict.module.conv.weight").
    public static func load(contentsOf path: String) throws(TorchCheckpointError) -> [String: TorchTensor] {
        try load(data: try FileBytes.read(path), path: path)
    }

    /// Same as `load(contentsOf:)` for bytes already in memory; `path` only labels errors.
    public static func load(data: [UInt8], path: String) throws(TorchCheckpointError) -> [String: TorchTensor] {
        var byName: [String: TorchTensor] = [:]
        for (name, tensor) in try loadOrdered(data: data, path: path) { byName[name] = tensor }
        return byName
    }

    /// The tensors in the order the pickle lists them (a state_dict's module order).
    public static func loadOrdered(contentsOf path: String) throws(TorchCheckpointError) -> [(name: String, tensor: TorchTensor)] {
        try loadOrdered(data: try FileBytes.read(path), path: path)
    }

    public static func loadOrdered(data: [UInt8], path: String) throws(TorchCheckpointError) -> [(name: String, tensor: TorchTensor)] {
        let decoded = try decode(data, path: path)
        var naming = TensorNaming(heap: decoded.heap, path: path)
        try naming.walk(decoded.root, name: "")
        var result: [(name: String, tensor: TorchTensor)] = []
        result.reserveCapacity(naming.named.count)
        for (name, index) in naming.named {
            result.append((name, try makeTensor(decoded.heap.tensors[index], decoded, path: path)))
        }
        return result
    }

    /// Containers training scripts commonly wrap the weights in, tried in this order.
    public static let stateDictContainers = ["state_dict", "model_state_dict", "model"]

    /// The model weights of a loaded checkpoint, named as `model.state_dict()` would name them: the
    /// tensors under the first of `stateDictContainers` present (all tensors if none is), with the
    /// "module." prefix that nn.DataParallel adds removed when every name has it.
    public static func stateDict(_ tensors: [String: TorchTensor], droppingModulePrefix: Bool = true) -> [String: TorchTensor] {
        var selected = tensors
        for container in stateDictContainers {
            let prefix = container + "."
            let inside = tensors.filter { $0.key.hasPrefix(prefix) }
            if !inside.isEmpty {
                selected = Dictionary(uniqueKeysWithValues: inside.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
                break
            }
        }
        let modulePrefix = "module."
        if droppingModulePrefix, !selected.isEmpty, selected.keys.allSatisfy({ $0.hasPrefix(modulePrefix) }) {
            selected = Dictionary(uniqueKeysWithValues: selected.map { (String($0.key.dropFirst(modulePrefix.count)), $0.value) })
        }
        return selected
    }

    // MARK: - Internals

    private static func decode(_ data: [UInt8], path: String) throws(TorchCheckpointError) -> DecodedCheckpoint {
        guard let first = data.first else { throw TorchCheckpointError(path: path, problem: .emptyFile) }
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) { // "PK\3\4", a zip local file header
            return try ZipFormat.decode(data, path: path)
        }
        if first == PickleOpcode.proto.rawValue {
            return try LegacyFormat.decode(data, path: path)
        }
        if data.count > 262, data[257..<262].elementsEqual("ustar".utf8) {
            throw TorchCheckpointError(path: path, problem: .notACheckpoint(reason: "a tar archive (torch < 0.4 format, not supported)"))
        }
        let head = data.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
        throw TorchCheckpointError(path: path, problem: .notACheckpoint(reason: "starts with bytes [\(head)], neither a pickle PROTO opcode nor a zip header"))
    }

    private static func makeTensor(_ record: TensorRecord, _ decoded: DecodedCheckpoint, path: String) throws(TorchCheckpointError) -> TorchTensor {
        guard let bytes = decoded.storageBytes[record.storageKey], record.storageByteOffset <= bytes.count else {
            throw TorchCheckpointError(path: path, problem: .badStorage(key: record.storageKey, reason: "has no data"))
        }
        let (elements, _) = try TensorGeometry.check(shape: record.shape, strides: record.strides, storageOffset: record.storageOffset, path: path)
        return TorchTensor(dtype: record.dtype, shape: record.shape, strides: record.strides,
                           storageOffset: record.storageOffset, elementCount: elements,
                           storage: bytes[(bytes.startIndex + record.storageByteOffset)...],
                           bigEndian: decoded.bigEndian, path: path)
    }
}
