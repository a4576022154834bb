/// One value on the unpickler's stack or in its memo.
///
/// Containers are not stored inline: they live in `PickleHeap` and are referenced by index. That gives
/// Python's sharing semantics (a list fetched from the memo and then appended to is the same list) and,
/// just as important for hostile input, no value ever owns a deep chain of nested values, so neither
/// deallocation nor copying can recurse.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer wider than 64 bits (LONG1/LONG4), little-endian two's complement, e.g. torch's magic number.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// A `module.name` reference pushed by GLOBAL/STACK_GLOBAL; only meaningful as a callable or class tag.
    case global(module: String, name: String)
    case tuple(Int)
    case list(Int)
    case dict(Int)
    /// A storage produced by a persistent id; index into `PickleHeap.storageViews`.
    case storage(Int)
    /// A rebuilt tensor; index into `PickleHeap.tensors`.
    case tensor(Int)

    /// Python-ish type name for error messages.
    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .global(let module, let name): return "\(module).\(name)"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// An insertion-ordered dict (Python dicts and OrderedDict behave the same for our purposes).
struct PickleDict {
    /// Keys that can be compared, so a repeated key overwrites like in Python.
    enum HashableKey: Hashable {
        case string(String)
        case int(Int64)
        case bool(Bool)
        case none
    }

    private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var slots: [HashableKey: Int] = [:]

    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        let hashable: HashableKey?
        switch key {
        case .string(let text): hashable = .string(text)
        case .int(let number): hashable = .int(number)
        case .bool(let flag): hashable = .bool(flag)
        case .none: hashable = HashableKey.none
        default: hashable = nil
        }
        if let hashable, let slot = slots[hashable] {
            entries[slot].value = value
            return
        }
        if let hashable { slots[hashable] = entries.count }
        entries.append((key, value))
    }

    func value(forString key: String) -> PickleValue? {
        guard let slot = slots[.string(key)] else { return nil }
        return entries[slot].value
    }
}

/// A storage as a tensor sees it: a declared storage (by key) or, in old legacy files, a window onto one.
struct StorageView {
    let key: String
    let dtype: TorchDType
    /// Element offset of the window inside the declared storage.
    let elementOffset: Int
    let elementCount: Int
}

/// A storage as declared by a persistent id; its bytes are located later (after the pickle in legacy
/// files, in `data/<key>` in zip files).
struct StorageDeclaration {
    let dtype: TorchDType
    let elementCount: Int
    /// Bytes the storage must have; checked with overflow-safe arithmetic when declared.
    let byteCount: Int
}

/// A tensor before its storage bytes are attached. Its geometry was already checked against the storage.
struct TensorRecord {
    let storageKey: String
    /// Where the tensor's storage window starts inside the declared storage (non-zero only for the storage
    /// views of very old legacy files).
    let storageByteOffset: Int
    let dtype: TorchDType
    let storageOffset: Int
    let shape: [Int]
    let strides: [Int]
}

/// Everything the pickles of one file create. Shared by the consecutive pickles of a legacy file because
/// the storage keys list refers back to storages declared in the main pickle.
struct PickleHeap {
    var tuples: [[PickleValue]] = []
    var lists: [[PickleValue]] = []
    var dicts: [PickleDict] = []
    var storageViews: [StorageView] = []
    var storages: [String: StorageDeclaration] = [:]
    var tensors: [TensorRecord] = []

    mutating func makeTuple(_ items: [PickleValue]) -> PickleValue {
        tuples.append(items)
        return .tuple(tuples.count - 1)
    }

    mutating func makeList(_ items: [PickleValue]) -> PickleValue {
        lists.append(items)
        return .list(lists.count - 1)
    }

    mutating func makeDict() -> PickleValue {
        dicts.append(PickleDict())
        return .dict(dicts.count - 1)
    }

    /// The items of a tuple or list (torch writes sizes as tuples; be lenient with lists).
    func sequence(_ value: PickleValue) -> [PickleValue]? {
        switch value {
        case .tuple(let index): return tuples[index]
        case .list(let index): return lists[index]
        default: return nil
        }
    }
}
