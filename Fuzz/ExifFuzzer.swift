// libFuzzer harness for the EXIF orientation reader (Sources/ShuffleNetImage/Exif*.swift), compiled
// together with those files by Scripts/fuzz using `swiftc -sanitize=fuzzer,address`. It walks JPEG
// segments and PNG chunks and then a TIFF directory, all from untrusted lengths and offsets.
//
// Every input is read as a JPEG, as a PNG, and as a bare TIFF block; any trap is a crash.

@_cdecl("LLVMFuzzerTestOneInput")
public func exifFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for format in [ImageFormat.jpeg, .png] {
        if let orientation = ExifOrientationTag.orientation(of: bytes, format: format) {
            precondition((1...8).contains(orientation.rawValue))
        }
    }
    _ = ExifOrientationTag.orientation(inTIFF: bytes[...])
    return 0
}
