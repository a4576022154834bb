import CImageCodecs

/// Finds the XMP packet Pillow would use: in a JPEG the last APP1 segment starting with the XMP
/// namespace (each one replaces the previous in Pillow's `info["xmp"]`), in a PNG the
/// `XML:com.adobe.xmp` iTXt chunk, inflated when compressed. Work is bounded by the segment or chunk
/// plus, for a compressed chunk, `maxInflatedBytes` of output.
///
/// PNG tEXt / zTXt chunks with that keyword, which the XMP specification does not use but Pillow
/// would also read, are not looked at.
enum XMPLocator {
    /// "http://ns.adobe.com/xap/1.0/\0", the identifier of a standard XMP APP1 segment. (Extended
    /// XMP, "http://ns.adobe.com/xmp/extension/", is not read by Pillow either.)
    static let jpegNamespace: [UInt8] = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]
    static let pngKeyword: [UInt8] = Array("XML:com.adobe.xmp".utf8)
    /// Pillow's `PngImagePlugin.MAX_TEXT_CHUNK` (1 MiB). Pillow refuses the whole image when a
    /// compressed text chunk inflates to more; here only that chunk is ignored.
    static let maxInflatedBytes = 1 << 20

    static func packet(in bytes: [UInt8], format: ImageFormat) -> ArraySlice<UInt8>? {
        switch format {
        case .jpeg: jpegPacket(bytes)
        case .png: pngPacket(bytes)
        }
    }

    private static func jpegPacket(_ bytes: [UInt8]) -> ArraySlice<UInt8>? {
        var last: ArraySlice<UInt8>?
        ImageMetadataSegments.forEachJPEGSegment(in: bytes) { marker, payload in
            if marker == 0xE1, payload.starts(with: jpegNamespace) { last = payload.dropFirst(jpegNamespace.count) }
            return true
        }
        return last
    }

    /// Pillow keeps the last XMP iTXt twice: as text when its language, translated keyword and text
    /// are valid UTF-8 (`info["XML:com.adobe.xmp"]`), and as bytes in any case (`info["xmp"]`), and
    /// `getexif` prefers the text when it is not empty. Both are tracked to choose the same packet.
    private static func pngPacket(_ bytes: [UInt8]) -> ArraySlice<UInt8>? {
        var lastUTF8: ArraySlice<UInt8>?
        var lastAny: ArraySlice<UInt8>?
        ImageMetadataSegments.forEachPNGChunk(in: bytes) { type, data in
            guard type.elementsEqual("iTXt".utf8), let text = ITXtChunk(data), text.keyword.elementsEqual(pngKeyword),
                  let packet = text.packet() else { return true }
            lastAny = packet
            if text.isUTF8(packet) { lastUTF8 = packet }
            return true
        }
        if let lastUTF8, !lastUTF8.isEmpty { return lastUTF8 }
        if let lastAny, !lastAny.isEmpty { return lastAny }
        return nil
    }

    /// The fields of an iTXt chunk: keyword, NUL, compression flag, compression method, language
    /// tag, NUL, translated keyword, NUL, text. Fields Pillow cannot split make the chunk unreadable.
    private struct ITXtChunk {
        let keyword: ArraySlice<UInt8>
        let compressed: Bool
        let method: UInt8
        let language: ArraySlice<UInt8>
        let translatedKeyword: ArraySlice<UInt8>
        let text: ArraySlice<UInt8>

        init?(_ data: ArraySlice<UInt8>) {
            guard let keywordEnd = data.firstIndex(of: 0), data.endIndex - keywordEnd > 2 else { return nil }
            keyword = data[data.startIndex..<keywordEnd]
            compressed = data[keywordEnd + 1] != 0
            method = data[keywordEnd + 2]
            let rest = data[(keywordEnd + 3)...]
            guard let languageEnd = rest.firstIndex(of: 0),
                  let translatedEnd = rest[(languageEnd + 1)...].firstIndex(of: 0) else { return nil }
            language = rest[rest.startIndex..<languageEnd]
            translatedKeyword = rest[(languageEnd + 1)..<translatedEnd]
            text = rest[(translatedEnd + 1)...]
        }

        /// The text, inflated if compressed; nil for an unknown method, corrupt or oversized data.
        func packet() -> ArraySlice<UInt8>? {
            guard compressed else { return text }
            guard method == 0 else { return nil }  // 0 = zlib, the only method PNG defines
            return XMPLocator.inflate(text).map { $0[...] }
        }

        func isUTF8(_ packet: ArraySlice<UInt8>) -> Bool {
            [language, translatedKeyword, packet].allSatisfy(XMPLocator.isValidUTF8)
        }
    }

    static func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        let failed = transcode(bytes.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true) { _ in }
        return !failed
    }

    /// Inflates into a buffer that starts small and doubles up to `maxInflatedBytes`, so memory
    /// follows the packet's real size; each retry starts over, at most log2(1 MiB / 4 KiB) times.
    static func inflate(_ data: ArraySlice<UInt8>) -> [UInt8]? {
        var capacity = min(maxInflatedBytes, max(4096, data.count * 8))
        while true {
            var output = [UInt8](repeating: 0, count: capacity)
            var produced = 0
            let status = data.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    image_codecs_inflate(input.baseAddress, input.count, out.baseAddress, out.count, &produced)
                }
            }
            switch status {
            case IMAGE_CODECS_OK:
                output.removeSubrange(produced...)
                return output
            case IMAGE_CODECS_TOO_LARGE where capacity < maxInflatedBytes:
                capacity = min(maxInflatedBytes, capacity * 2)
            default:
                return nil
            }
        }
    }
}
