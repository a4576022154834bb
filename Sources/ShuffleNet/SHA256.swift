// SHA-256 (FIPS 180-4) in plain Swift. Checkpoints are verified against pinned hashes, and pulling in a crypto
// package (with its C/assembly build) only for that would make the build much heavier than the classifier itself.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Streaming SHA-256: feed bytes with `update`, read the 32-byte digest with `finalize`.
///
///     var hasher = SHA256()
///     hasher.update(Array("abc".utf8))
///     let hex = hasher.finalizeHex()   // "ba7816bf..."
public struct SHA256: Sendable {
    public static let digestByteCount = 32
    private static let blockByteCount = 64

    /// Why hashing a file failed; the message names the file.
    public enum FileError: Error, CustomStringConvertible, Equatable {
        case cannotOpen(path: String, reason: String)
        case readFailed(path: String, reason: String)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let reason): "cannot open \(path) to compute its sha256: \(reason)"
            case .readFailed(let path, let reason): "reading \(path) to compute its sha256 failed: \(reason)"
            }
        }
    }

    /// H(0): the first 32 bits of the fractional parts of the square roots of the first 8 primes (FIPS 180-4 5.3.3).
    private var state: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    /// Bytes of an incomplete block, carried over between `update` calls (always fewer than 64).
    private var pending: [UInt8] = []
    private var totalByteCount: UInt64 = 0

    public init() {
        pending.reserveCapacity(Self.blockByteCount)
    }

    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update(buffer: $0) }
    }

    private mutating func update(buffer input: UnsafeRawBufferPointer) {
        totalByteCount &+= UInt64(input.count)
        var offset = 0
        if !pending.isEmpty {
            let taken = min(Self.blockByteCount - pending.count, input.count)
            pending.append(contentsOf: input[0..<taken])
            offset = taken
            guard pending.count == Self.blockByteCount else { return }
            pending.withUnsafeBytes { Self.compress(&state, blocks: $0) }
            pending.removeAll(keepingCapacity: true)
        }
        // Whole blocks are hashed straight from the caller's buffer: no copy on the hot path.
        let wholeBlockBytes = (input.count - offset) / Self.blockByteCount * Self.blockByteCount
        if wholeBlockBytes > 0 {
            Self.compress(&state, blocks: UnsafeRawBufferPointer(rebasing: input[offset..<(offset + wholeBlockBytes)]))
            offset += wholeBlockBytes
        }
        pending.append(contentsOf: input[offset...])
    }

    /// The digest of everything fed so far. Does not change `self`, so more bytes may still be added.
    public func finalize() -> [UInt8] {
        var copy = self
        // Padding (FIPS 180-4 5.1.1): a 1 bit, zeros up to 56 mod 64 bytes, then the message length in bits.
        let bitCount = totalByteCount &* 8
        var padding: [UInt8] = [0x80]
        let zeroCount = (Self.blockByteCount + 56 - (pending.count + 1) % Self.blockByteCount) % Self.blockByteCount
        padding.append(contentsOf: repeatElement(0, count: zeroCount))
        for shift in stride(from: 56, through: 0, by: -8) {
            padding.append(UInt8(truncatingIfNeeded: bitCount >> UInt64(shift)))
        }
        copy.update(padding)
        var digest: [UInt8] = []
        digest.reserveCapacity(Self.digestByteCount)
        for word in copy.state {
            digest.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: word >> UInt32($0)) })
        }
        return digest
    }

    /// The digest as 64 lowercase hex characters, the form used by `sha256sum` and in pinned manifests.
    public func finalizeHex() -> String {
        Self.hex(finalize())
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var characters: [UInt8] = []
        characters.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    public static func digest(of bytes: some ContiguousBytes) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Hashes a file in chunks so that memory stays flat however large the file is. Plain POSIX reads: they reuse
    /// one buffer, and errno gives clearer reasons ("Is a directory") than Foundation's wrapped errors.
    public static func hexDigest(
        ofFileAtPath path: String, chunkByteCount: Int = 1 << 20
    ) throws(FileError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: max(chunkByteCount, blockByteCount))
        var hasher = SHA256()
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .readFailed(path: path, reason: String(cString: strerror(errno)))
            }
            buffer.withUnsafeBytes { hasher.update(buffer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        return hasher.finalizeHex()
    }

    /// K: the first 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4 4.2.2).
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    @inline(__always)
    private static func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 {
        (x >> n) | (x << (32 &- n))
    }

    /// The compression function (FIPS 180-4 6.2.2) over every whole 64-byte block of `blocks`.
    /// The working state lives in locals for the whole run so the optimiser can keep it in registers.
    private static func compress(_ state: inout [UInt32], blocks: UnsafeRawBufferPointer) {
        var h0 = state[0], h1 = state[1], h2 = state[2], h3 = state[3]
        var h4 = state[4], h5 = state[5], h6 = state[6], h7 = state[7]
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            roundConstants.withUnsafeBufferPointer { k in
                var offset = 0
                while offset + blockByteCount <= blocks.count {
                    for t in 0..<16 {
                        schedule[t] = UInt32(
                            bigEndian: blocks.loadUnaligned(fromByteOffset: offset + 4 * t, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let w15 = schedule[t - 15], w2 = schedule[t - 2]
                        let sigma0 = rotateRight(w15, 7) ^ rotateRight(w15, 18) ^ (w15 >> 3)
                        let sigma1 = rotateRight(w2, 17) ^ rotateRight(w2, 19) ^ (w2 >> 10)
                        schedule[t] = schedule[t - 16] &+ sigma0 &+ schedule[t - 7] &+ sigma1
                    }
                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
                    for t in 0..<64 {
                        let bigSigma1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
                        let choose = (e & f) ^ (~e & g)
                        let t1 = h &+ bigSigma1 &+ choose &+ k[t] &+ schedule[t]
                        let bigSigma0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
                        let majority = (a & b) ^ (a & c) ^ (b & c)
                        let t2 = bigSigma0 &+ majority
                        h = g; g = f; f = e; e = d &+ t1
                        d = c; c = b; b = a; a = t1 &+ t2
                    }
                    h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
                    h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
                    offset += blockByteCount
                }
            }
        }
        state = [h0, h1, h2, h3, h4, h5, h6, h7]
    }
}
