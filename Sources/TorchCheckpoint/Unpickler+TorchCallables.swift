/// The only Python callables a checkpoint may invoke through REDUCE/NEWOBJ. Anything else (an nn.Module,
/// numpy arrays, user classes) is refused with its dotted name: executing it is exactly what makes pickles
/// dangerous, and nothing outside this list carries weights.
extension Unpickler {
    /// Largest tensor rank accepted; torch itself caps dimensions at 64.
    static let maxRank = 64
    /// Zero strides let a tiny storage describe an enormous tensor; beyond this many elements (or the
    /// storage's own size, whichever is larger) `floats()` could be made to allocate without bound.
    static let maxBroadcastElements = 1 << 24

    mutating func call(_ callable: PickleValue, _ arguments: PickleValue, at offset: Int) throws(TorchCheckpointError) -> PickleValue {
        guard case .global(let module, let name) = callable else {
            throw malformed("REDUCE on a \(callable.typeName), which is not a callable", offset)
        }
        guard case .tuple(let tupleIndex) = arguments else {
            throw malformed("arguments of \(module).\(name) are a \(arguments.typeName), not a tuple", offset)
        }
        let args = heap.tuples[tupleIndex]
        switch (module, name) {
        case ("collections", "OrderedDict"), ("builtins", "dict"):
            return try makeDict(args, offset)
        case ("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_tensor_v2"):
            // v1: (storage, offset, size, stride); v2 adds requires_grad, backward_hooks[, metadata].
            guard args.count >= 4 else { throw malformed("\(name) needs at least 4 arguments", offset) }
            return try rebuildTensor(args, dtype: nil, offset)
        case ("torch._utils", "_rebuild_tensor_v3"):
            // Used for dtypes without a legacy storage class: the storage is untyped and the dtype comes 7th.
            guard args.count >= 7, case .global(_, let dtypeName) = args[6] else {
                throw malformed("_rebuild_tensor_v3 needs a dtype as its 7th argument", offset)
            }
            guard let dtype = TorchDType(torchAttributeName: dtypeName) else {
                throw error(.badTensor(reason: "unsupported dtype torch.\(dtypeName)"))
            }
            return try rebuildTensor(args, dtype: dtype, offset)
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            // A Parameter is its data tensor plus requires_grad, which inference ignores.
            guard let data = args.first, case .tensor = data else {
                throw malformed("\(name) expects a tensor as its first argument", offset)
            }
            return data
        case ("_codecs", "encode"):
            // Protocol 2 writes Python 3 bytes as _codecs.encode(text, 'latin1').
            guard args.count == 2, case .string(let text) = args[0] else {
                throw malformed("_codecs.encode expects (str, encoding)", offset)
            }
            return .bytes(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        default:
            throw error(.unsupportedCallable(name: "\(module).\(name)", offset: offset))
        }
    }

    /// `OrderedDict()` or `OrderedDict([(key, value), ...])`.
    private mutating func makeDict(_ args: [PickleValue], _ offset: Int) throws(TorchCheckpointError) -> PickleValue {
        let dict = heap.makeDict()
        guard case .dict(let dictIndex) = dict else { return dict }
        if let pairs = args.first {
            guard let items = heap.sequence(pairs) else {
                throw malformed("OrderedDict argument is a \(pairs.typeName)", offset)
            }
            for item in items {
                guard let pair = heap.sequence(item), pair.count == 2 else {
                    throw malformed("OrderedDict item is not a (key, value) pair", offset)
                }
                heap.dicts[dictIndex].set(pair[0], pair[1])
            }
        }
        return dict
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`: validates the geometry against the
    /// storage right away, so a tensor that exists is a tensor whose every element can be read.
    private mutating func rebuildTensor(_ args: [PickleValue], dtype explicitDType: TorchDType?, _ offset: Int) throws(TorchCheckpointError) -> PickleValue {
        guard case .storage(let viewIndex) = args[0] else {
            throw malformed("tensor storage argument is a \(args[0].typeName)", offset)
        }
        let view = heap.storageViews[viewIndex]
        let dtype = explicitDType ?? view.dtype
        let storageOffset = try nonNegativeInt(args[1], "tensor storage offset", offset)
        guard let sizeItems = heap.sequence(args[2]), let strideItems = heap.sequence(args[3]) else {
            throw malformed("tensor size/stride are not tuples", offset)
        }
        guard sizeItems.count == strideItems.count, sizeItems.count <= Self.maxRank else {
            throw error(.badTensor(reason: "\(sizeItems.count) sizes but \(strideItems.count) strides (max rank \(Self.maxRank))"))
        }
        var shape: [Int] = []
        var strides: [Int] = []
        for item in sizeItems { shape.append(try nonNegativeInt(item, "tensor size", offset)) }
        for item in strideItems { strides.append(try nonNegativeInt(item, "tensor stride", offset)) }

        // Element capacity of the storage window, in elements of the tensor's dtype. Only an untyped (byte)
        // storage may be reinterpreted as another dtype, as torch's _rebuild_tensor_v3 does.
        guard dtype == view.dtype || view.dtype == .uint8 else {
            throw error(.badTensor(reason: "a \(dtype) tensor on a \(view.dtype) storage '\(view.key)'"))
        }
        let viewBytes = view.elementCount * view.dtype.elementSize // bounded by the file size when declared
        let capacity = viewBytes / dtype.elementSize
        let viewByteOffset = view.elementOffset * view.dtype.elementSize

        let (elements, extent) = try TensorGeometry.check(shape: shape, strides: strides, storageOffset: storageOffset, path: path)
        guard extent <= capacity else {
            throw error(.badTensor(reason: "shape \(shape) strides \(strides) offset \(storageOffset) reach element \(extent) of storage '\(view.key)', which has \(capacity) \(dtype) elements"))
        }
        guard elements <= max(capacity, Self.maxBroadcastElements) else {
            throw error(.limitExceeded(what: "a tensor of \(elements) elements on a storage of \(capacity)"))
        }
        heap.tensors.append(TensorRecord(storageKey: view.key, storageByteOffset: viewByteOffset,
                                         dtype: dtype, storageOffset: storageOffset, shape: shape, strides: strides))
        return .tensor(heap.tensors.count - 1)
    }

    func nonNegativeInt(_ value: PickleValue, _ what: String, _ offset: Int) throws(TorchCheckpointError) -> Int {
        guard case .int(let number) = value, number >= 0, number <= Int64(Int.max) else {
            throw malformed("\(what) must be a non-negative integer, got \(value.typeName)", offset)
        }
        return Int(number)
    }
}
