// libFuzzer harness for the torch.save reader (Sources/TorchCheckpoint), compiled together with that
// module's sources by Scripts/fuzz using `swiftc -sanitize=fuzzer,address`.
//
// Any input must either load or throw a TorchCheckpointError; the tensors' values are read in full so
// that a wrong size or offset shows up as an ASan report or a trap.

@_cdecl("LLVMFuzzerTestOneInput")
public func checkpointFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let tensors = try? TorchCheckpoint.loadOrdered(data: bytes, path: "fuzz.pth") else { return 0 }
    for (_, tensor) in tensors {
        _ = try? tensor.floats()
    }
    return 0
}
