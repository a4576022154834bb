/// A pickle virtual machine restricted to what torch.save writes. It never imports or runs anything: GLOBAL
/// pushes a name, and REDUCE only understands the handful of torch/collections callables a checkpoint uses
/// (see Unpickler+TorchCallables.swift). Containers are created in `heap`, which survives from one pickle to
/// the next so a legacy file's storage-key pickle can refer to storages declared by the main pickle.
struct Unpickler {
    let bytes: [UInt8]
    let path: String
    var heap = PickleHeap()

    private var stack: [PickleValue] = []
    /// Stack heights at each MARK (CPython keeps a "metastack"; heights are equivalent and cheaper).
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Runs the pickle starting at `start` (not reading past `end`) and returns its value and the offset just
    /// after its STOP opcode. `what` names the pickle in errors.
    mutating func load(from start: Int, to end: Int, what: String) throws(TorchCheckpointError) -> (value: PickleValue, end: Int) {
        var reader = ByteReader(bytes: bytes, region: start..<end, path: path)
        stack.removeAll(keepingCapacity: true)
        marks.removeAll(keepingCapacity: true)
        memo.removeAll(keepingCapacity: true)
        while true {
            let offset = reader.position
            let byte = try reader.u8("an opcode of \(what)")
            guard let opcode = PickleOpcode(rawValue: byte) else {
                throw error(.unknownOpcode(byte, offset: offset))
            }
            if opcode == .stop {
                return (try pop(offset), reader.position)
            }
            try execute(opcode, at: offset, reader: &reader)
        }
    }

    func error(_ problem: TorchCheckpointError.Problem) -> TorchCheckpointError {
        TorchCheckpointError(path: path, problem: problem)
    }

    func malformed(_ reason: String, _ offset: Int) -> TorchCheckpointError {
        error(.malformedPickle(reason: reason, offset: offset))
    }

    // MARK: - Stack primitives (all underflow-checked, and never popping below the innermost MARK)

    private var floor: Int { marks.last ?? 0 }

    mutating func push(_ value: PickleValue) {
        stack.append(value)
    }

    mutating func pop(_ offset: Int) throws(TorchCheckpointError) -> PickleValue {
        guard stack.count > floor, let value = stack.popLast() else {
            throw malformed("stack underflow", offset)
        }
        return value
    }

    func top(_ offset: Int) throws(TorchCheckpointError) -> PickleValue {
        guard stack.count > floor, let value = stack.last else {
            throw malformed("stack underflow", offset)
        }
        return value
    }

    mutating func pushMark() {
        marks.append(stack.count)
    }

    /// Removes and returns everything pushed since the innermost MARK, and that MARK.
    mutating func popToMark(_ offset: Int) throws(TorchCheckpointError) -> [PickleValue] {
        guard let height = marks.popLast(), height <= stack.count else {
            throw malformed("no MARK to pop to", offset)
        }
        let items = Array(stack[height...])
        stack.removeSubrange(height...)
        return items
    }

    /// POP: drops the top value, or the innermost MARK when nothing was pushed after it (as CPython does).
    mutating func popValueOrMark(_ offset: Int) throws(TorchCheckpointError) {
        if stack.count > floor {
            stack.removeLast()
        } else if let height = marks.last, height == stack.count {
            marks.removeLast()
        } else {
            throw malformed("stack underflow", offset)
        }
    }

    // MARK: - Memo

    mutating func memoize(_ index: Int, _ offset: Int) throws(TorchCheckpointError) {
        memo[index] = try top(offset)
    }

    mutating func memoizeNext(_ offset: Int) throws(TorchCheckpointError) {
        memo[memo.count] = try top(offset)
    }

    mutating func pushMemo(_ index: Int, _ offset: Int) throws(TorchCheckpointError) {
        guard let value = memo[index] else {
            throw malformed("memo slot \(index) was never written", offset)
        }
        push(value)
    }
}
