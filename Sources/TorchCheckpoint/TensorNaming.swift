/// Turns the unpickled object graph into dotted tensor names, the way state_dict keys are written:
/// {'state_dict': OrderedDict({'module.conv.weight': t})} gives "state_dict.module.conv.weight";
/// list and tuple items are named by index. Values that are not tensors (epochs, optimizer settings...)
/// are skipped.
struct TensorNaming {
    /// Deeper than any real checkpoint; also stops reference cycles (a list appended to itself).
    static let maxDepth = 64
    /// Shared sub-objects can make a small pickle describe an exponentially large tree.
    static let maxVisits = 1 << 22

    let heap: PickleHeap
    let path: String
    private(set) var named: [(name: String, tensor: Int)] = []
    private var usedNames: Set<String> = []
    private var visits = 0

    init(heap: PickleHeap, path: String) {
        self.heap = heap
        self.path = path
    }

    mutating func walk(_ value: PickleValue, name: String, depth: Int = 0) throws(TorchCheckpointError) {
        visits += 1
        guard visits <= Self.maxVisits else {
            throw TorchCheckpointError(path: path, problem: .limitExceeded(what: "more than \(Self.maxVisits) objects reachable from the pickle"))
        }
        guard depth <= Self.maxDepth else {
            throw TorchCheckpointError(path: path, problem: .limitExceeded(what: "containers nested more than \(Self.maxDepth) deep at '\(name)'"))
        }
        switch value {
        case .tensor(let index):
            guard usedNames.insert(name).inserted else {
                throw TorchCheckpointError(path: path, problem: .duplicateName(name))
            }
            named.append((name, index))
        case .dict(let index):
            for (key, child) in heap.dicts[index].entries {
                try walk(child, name: Self.join(name, try component(key, under: name)), depth: depth + 1)
            }
        case .list, .tuple:
            for (position, child) in (heap.sequence(value) ?? []).enumerated() {
                try walk(child, name: Self.join(name, String(position)), depth: depth + 1)
            }
        default:
            return
        }
    }

    private func component(_ key: PickleValue, under name: String) throws(TorchCheckpointError) -> String {
        switch key {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "True" : "False"
        default:
            throw TorchCheckpointError(path: path, problem: .badTensor(reason: "a dict under '\(name)' has a \(key.typeName) key, which cannot be part of a tensor name"))
        }
    }

    private static func join(_ prefix: String, _ component: String) -> String {
        prefix.isEmpty ? component : prefix + "." + component
    }
}
