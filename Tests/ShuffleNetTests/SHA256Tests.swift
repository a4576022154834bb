// SHA-256 against the published FIPS 180-2 example vectors (appendix B), fed whole, in awkward pieces and from a file.
import Foundation
import ShuffleNet
import Testing

/// Expected digests copied from FIPS 180-2, appendix B (and the NIST example page for the 896-bit message).
enum FIPSVectors {
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    static let message448Bits = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    static let message448BitsDigest = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    static let message896Bits = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
        + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
    static let message896BitsDigest = "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
    static let millionA = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    static let millionADigest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
}

@Suite struct SHA256Tests {
    private func hex(_ bytes: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }

    @Test func emptyMessage() {
        #expect(hex([]) == FIPSVectors.empty)
    }

    @Test func abc() {
        #expect(hex(Array("abc".utf8)) == FIPSVectors.abc)
        #expect(SHA256.digest(of: Array("abc".utf8)).count == SHA256.digestByteCount)
    }

    /// 56 bytes: the padding no longer fits in the first block, so a second block is needed.
    @Test func message448Bits() {
        #expect(hex(Array(FIPSVectors.message448Bits.utf8)) == FIPSVectors.message448BitsDigest)
    }

    @Test func message896Bits() {
        #expect(hex(Array(FIPSVectors.message896Bits.utf8)) == FIPSVectors.message896BitsDigest)
    }

    @Test func oneMillionA() {
        #expect(hex(FIPSVectors.millionA) == FIPSVectors.millionADigest)
    }

    /// Piece sizes straddle the 64-byte block boundary in every way: a carried-over partial block must be
    /// completed, flushed, or left partial.
    @Test(arguments: [1, 3, 55, 63, 64, 65, 127, 1000, 4096])
    func streamingInPiecesMatchesWholeMessage(pieceSize: Int) {
        var hasher = SHA256()
        var start = 0
        while start < FIPSVectors.millionA.count {
            let end = min(start + pieceSize, FIPSVectors.millionA.count)
            hasher.update(FIPSVectors.millionA[start..<end].withUnsafeBytes { Data($0) })
            start = end
        }
        #expect(hasher.finalizeHex() == FIPSVectors.millionADigest)
    }

    @Test func finalizeLeavesTheHasherUsable() {
        var hasher = SHA256()
        hasher.update(Array("ab".utf8))
        _ = hasher.finalize()
        hasher.update(Array("c".utf8))
        #expect(hasher.finalizeHex() == FIPSVectors.abc)
    }

    @Test func hexIsLowercaseAndZeroPadded() {
        #expect(SHA256.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
    }

    /// A chunk size that is not a multiple of 64 exercises the carry-over between file reads.
    @Test func fileInChunks() throws {
        let directory = try FetchTestDirectory()
        defer { directory.remove() }
        let path = try directory.write("million-a.bin", FIPSVectors.millionA)
        #expect(try SHA256.hexDigest(ofFileAtPath: path, chunkByteCount: 1000) == FIPSVectors.millionADigest)
        #expect(try SHA256.hexDigest(ofFileAtPath: path) == FIPSVectors.millionADigest)
    }

    @Test func missingFileThrowsCannotOpen() throws {
        let directory = try FetchTestDirectory()
        defer { directory.remove() }
        let path = directory.path + "/absent.bin"
        let error = #expect(throws: SHA256.FileError.self) { try SHA256.hexDigest(ofFileAtPath: path) }
        guard case .cannotOpen(let reportedPath, _) = error else {
            Issue.record("expected cannotOpen, got \(String(describing: error))")
            return
        }
        #expect(reportedPath == path)
        #expect(error?.description.contains(path) == true)
    }

    @Test func directoryThrowsReadFailed() throws {
        let directory = try FetchTestDirectory()
        defer { directory.remove() }
        let error = #expect(throws: SHA256.FileError.self) { try SHA256.hexDigest(ofFileAtPath: directory.path) }
        #expect(error == .readFailed(path: directory.path, reason: "Is a directory"))
    }

    /// The real checkpoint's hash is the one SOURCES.md records (computed there with sha256sum); also reports speed.
    @Test(.enabled(if: FetchTestSharedData.weightsDirectory != nil, FetchTestSharedData.skipMessage))
    func realCheckpointMatchesSourcesAndThroughput() throws {
        let weights = try #require(FetchTestSharedData.weightsDirectory)
        let path = weights + "/megvii_ShuffleNetV1_0.5x_g3.pth.tar"
        let clock = ContinuousClock()
        var digest = ""
        let elapsed = try clock.measure { digest = try SHA256.hexDigest(ofFileAtPath: path) }
        #expect(digest == FetchTestSharedData.g3SHA256)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print("SHA256 throughput: \(String(format: "%.0f", 2_977_667 / 1e6 / seconds)) MB/s on a 2.98 MB checkpoint")
    }
}
