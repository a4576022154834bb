/// What either file format yields before tensors are named: the unpickled object graph and, for each
/// declared storage, the exact bytes it occupies in the file.
struct DecodedCheckpoint {
    let root: PickleValue
    let heap: PickleHeap
    let storageBytes: [String: ArraySlice<UInt8>]
    let bigEndian: Bool
}
