// The sha256 of a checkpoint file, which guards the weights download: swift-crypto's SHA256 over chunks read with
// plain POSIX reads (they reuse one buffer, and errno gives clearer reasons, "Is a directory", than Foundation's
// wrapped errors). Internal: the library exposes hex strings only, so no public name clashes with swift-crypto's or
// CryptoKit's `SHA256`.
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why hashing a file failed; the message names the file.
package enum FileDigestError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, reason: String)

    package var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open \(path) to compute its sha256: \(reason)"
        case .readFailed(let path, let reason): "reading \(path) to compute its sha256 failed: \(reason)"
        }
    }
}

package enum FileDigest {
    /// The digest as 64 lowercase hex characters, the form used by `sha256sum` and in pinned manifests.
    package static func sha256Hex(of bytes: some DataProtocol) -> String {
        hex(Crypto.SHA256.hash(data: bytes))
    }

    /// Hashes a file in chunks so that memory stays flat however large the file is.
    package static func sha256Hex(ofFileAtPath path: String, chunkByteCount: Int = 1 << 20) throws(FileDigestError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: max(chunkByteCount, 1))
        var hasher = Crypto.SHA256()
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .readFailed(path: path, reason: String(cString: strerror(errno)))
            }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        return hex(hasher.finalize())
    }

    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var characters: [UInt8] = []
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
