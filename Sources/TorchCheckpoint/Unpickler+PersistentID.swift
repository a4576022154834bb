/// Persistent ids are how torch.save keeps storage bytes out of the pickle. Both formats use a tuple
///   legacy: ('storage', storage_type, key, location, numel, view_metadata)
///   zip:    ('storage', storage_type, key, location, numel)
/// where storage_type is a class reference such as torch.FloatStorage (or torch.UntypedStorage, whose
/// numel counts bytes) and view_metadata is None or (view_key, offset, numel) in very old files.
extension Unpickler {
    mutating func loadPersistent(_ persistentID: PickleValue, at offset: Int) throws(TorchCheckpointError) -> PickleValue {
        guard case .tuple(let tupleIndex) = persistentID else {
            throw malformed("persistent id is a \(persistentID.typeName), torch writes tuples", offset)
        }
        let fields = heap.tuples[tupleIndex]
        guard case .string(let kind)? = fields.first else {
            throw malformed("persistent id does not start with a type name", offset)
        }
        guard kind == "storage" else {
            // Legacy torch.save of a whole nn.Module writes ('module', class, source_file, source).
            throw error(.unsupportedCallable(name: "persistent object '\(kind)' (save model.state_dict(), not the model)", offset: offset))
        }
        guard fields.count == 5 || fields.count == 6 else {
            throw malformed("storage persistent id has \(fields.count) fields, expected 5 or 6", offset)
        }
        guard case .global(let module, let className) = fields[1], module.hasPrefix("torch"),
              let dtype = TorchDType(storageClassName: className) else {
            throw malformed("unsupported storage type \(fields[1].typeName)", offset)
        }
        let key = try storageKey(fields[2], offset)
        let elementCount = try nonNegativeInt(fields[4], "storage size", offset)
        let declaration = try declareStorage(key: key, dtype: dtype, elementCount: elementCount, offset)

        var view = StorageView(key: key, dtype: dtype, elementOffset: 0, elementCount: elementCount)
        if fields.count == 6, case .tuple(let metadataIndex) = fields[5] {
            let metadata = heap.tuples[metadataIndex]
            guard metadata.count == 3 else { throw malformed("storage view metadata has \(metadata.count) fields", offset) }
            let viewOffset = try nonNegativeInt(metadata[1], "storage view offset", offset)
            let viewCount = try nonNegativeInt(metadata[2], "storage view size", offset)
            guard viewOffset <= declaration.elementCount, viewCount <= declaration.elementCount - viewOffset else {
                throw error(.badStorage(key: key, reason: "view [\(viewOffset), +\(viewCount)) lies outside its \(declaration.elementCount) elements"))
            }
            view = StorageView(key: key, dtype: dtype, elementOffset: viewOffset, elementCount: viewCount)
        } else if fields.count == 6, case .none = fields[5] {
            // Not a view.
        } else if fields.count == 6 {
            throw malformed("storage view metadata is a \(fields[5].typeName)", offset)
        }
        heap.storageViews.append(view)
        return .storage(heap.storageViews.count - 1)
    }

    /// Records a storage the first time its key appears; later references must agree with the first.
    private mutating func declareStorage(key: String, dtype: TorchDType, elementCount: Int, _ offset: Int) throws(TorchCheckpointError) -> StorageDeclaration {
        let (byteCount, overflowed) = elementCount.multipliedReportingOverflow(by: dtype.elementSize)
        // The bytes must be somewhere in this file, which bounds every later allocation by the file size.
        guard !overflowed, byteCount <= bytes.count else {
            throw error(.badStorage(key: key, reason: "declares \(elementCount) \(dtype) elements, more than the \(bytes.count)-byte file can hold"))
        }
        if let existing = heap.storages[key] {
            guard existing.dtype == dtype, existing.elementCount == elementCount else {
                throw error(.badStorage(key: key, reason: "declared as \(existing.elementCount) \(existing.dtype) and again as \(elementCount) \(dtype)"))
            }
            return existing
        }
        let declaration = StorageDeclaration(dtype: dtype, elementCount: elementCount, byteCount: byteCount)
        heap.storages[key] = declaration
        return declaration
    }

    func storageKey(_ value: PickleValue, _ offset: Int) throws(TorchCheckpointError) -> String {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        default: throw malformed("storage key is a \(value.typeName)", offset)
        }
    }
}
