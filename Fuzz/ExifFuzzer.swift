// libFuzzer harness for the EXIF and XMP orientation readers (Sources/ShuffleNetImage/Exif*.swift,
// XMP*.swift), compiled together with those files by Scripts/fuzz using `swiftc -sanitize=fuzzer,address`.
// It walks JPEG segments and PNG chunks, then a TIFF directory or an XMP packet (inflating compressed
// iTXt), all from untrusted lengths and offsets.
//
// Every input is read as a JPEG, as a PNG, as a bare TIFF block and as a bare XMP packet; any trap is
// a crash.

@_cdecl("LLVMFuzzerTestOneInput")
public func exifFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for format in [ImageFormat.jpeg, .png] {
        if let orientation = ExifOrientationTag.orientation(of: bytes, format: format) {
            precondition((1...8).contains(orientation.rawValue))
        }
    }
    _ = ExifOrientationTag.orientation(inTIFF: bytes[...])
    if let orientation = XMPOrientation.orientation(inPacket: bytes[...]) {
        precondition((1...8).contains(orientation.rawValue))
    }
    return 0
}
