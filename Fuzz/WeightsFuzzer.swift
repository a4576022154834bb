// libFuzzer harness for the weights loader (Sources/ShuffleNetEngine), compiled together with that
// module's sources by Scripts/fuzz using `swiftc -sanitize=fuzzer,address`.
//
// Any input must either load or throw a WeightsError: a trap (overflow, out-of-range index, force
// unwrap) or an ASan report is a crash that libFuzzer saves.

@_cdecl("LLVMFuzzerTestOneInput")
public func weightsFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafeTensorsFile(bytes: bytes, path: "fuzz.safetensors") else { return 0 }
    for entry in file.entries where entry.elementCount <= 1 << 20 {
        _ = try? file.floats(entry)
    }
    _ = try? ShuffleNetWeights(file: file)
    return 0
}
