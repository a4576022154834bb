/// The orientation kept in an XMP packet as `tiff:Orientation`, read exactly as Pillow's
/// `Image.getexif` does (PIL/Image.py): the first match of the regular expression
/// `tiff:Orientation(="|>)([0-9])` anywhere in the packet, the attribute form
/// `tiff:Orientation="6"` and the element form `<tiff:Orientation>6</tiff:Orientation>` alike,
/// whichever comes first.
///
/// Deliberately no XML parsing, to see the same values as Pillow: single quotes, spaces around `=`
/// or inside the element, and other namespace prefixes are not recognised; only one digit is read
/// (`"10"` counts as 1); the first match decides even when its digit is 0 or 9, which then means
/// no orientation rather than a look further on. Consulted only when EXIF has no Orientation tag
/// (`ExifOrientationTag.orientation(of:format:)`).
enum XMPOrientation {
    private static let property = Array("tiff:Orientation".utf8)
    private static let equals = UInt8(ascii: "="), quote = UInt8(ascii: "\""), greaterThan = UInt8(ascii: ">")

    /// The orientation of a JPEG or PNG file according to its XMP packet, or nil.
    static func orientation(of bytes: [UInt8], format: ImageFormat) -> ImageOrientation? {
        XMPLocator.packet(in: bytes, format: format).flatMap(orientation(inPacket:))
    }

    /// One left-to-right pass over the packet, comparing at most `property.count` bytes per
    /// position: linear in the packet, no allocation.
    static func orientation(inPacket packet: ArraySlice<UInt8>) -> ImageOrientation? {
        guard let digit = firstOrientationDigit(in: packet) else { return nil }
        return ImageOrientation(rawValue: digit)
    }

    /// The digit of the first match, 0...9, or nil when the pattern does not occur.
    static func firstOrientationDigit(in packet: ArraySlice<UInt8>) -> Int? {
        var start = packet.startIndex
        while packet.endIndex - start >= property.count + 2 {  // the shortest match is `tiff:Orientation>6`
            defer { start += 1 }
            guard packet[start..<(start + property.count)].elementsEqual(property) else { continue }
            var next = start + property.count
            if packet[next] == equals {
                next += 1
                guard next < packet.endIndex, packet[next] == quote else { continue }
            } else if packet[next] != greaterThan {
                continue
            }
            next += 1
            if next < packet.endIndex, let digit = decimalDigit(packet[next]) { return digit }
        }
        return nil
    }

    private static func decimalDigit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }
}
