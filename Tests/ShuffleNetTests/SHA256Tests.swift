// SHA-256 (swift-crypto, through the library's file hashing) against the published FIPS 180-2 example vectors
// (appendix B), fed whole, in awkward pieces and from a file.
import Foundation
import ShuffleNet  // FileDigest is package-visible
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
        FileDigest.sha256Hex(of: bytes)
    }

    @Test func emptyMessage() {
        #expect(hex([]) == FIPSVectors.empty)
    }

    @Test func abc() {
        #expect(hex(Array("abc".utf8)) == FIPSVectors.abc)
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

    /// Chunk sizes straddle the 64-byte block boundary in every way: a carried-over partial block must be
    /// completed, flushed, or left partial.
    @Test(arguments: [1, 3, 55, 63, 64, 65, 127, 1000, 4096])
    func fileReadInChunksMatchesWholeMessage(chunkByteCount: Int) throws {
        let directory = try FetchTestDirectory()
        defer { directory.remove() }
        let path = try directory.write("message-896.bin", Array(FIPSVectors.message896Bits.utf8))
        #expect(try FileDigest.sha256Hex(ofFileAtPath: path, chunkByteCount: chunkByteCount) == FIPSVectors.message896BitsDigest)
    }

    @Test func hexIsLowercaseAndZeroPadded() {
        #expect(FileDigest.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
    }

    /// A chunk size that is not a multiple of 64 exercises the carry-over between file reads.
    @Test func fileInChunks() throws {
        let directory = try FetchTestDirectory()
        defer { directory.remove() }
        let path = try directory.write("million-a.bin", FIPSVectors.millionA)
        #expect(try FileDigest.sha256Hex(ofFileAtPath: path, chunkByteCount: 1000) == FIPSVectors.millionADigest)
        #expect(try FileDigest.sha256Hex(ofFileAtPath: path) == FIPSVectors.millionADigest)
    }

    @Test func missingFileThrowsCannotOpen() throws {
        let directory = try FetchTestDirectory()
        defer { directory.remove() }
        let path = directory.path + "/absent.bin"
        let error = #expect(throws: FileDigestError.self) { try FileDigest.sha256Hex(ofFileAtPath: path) }
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
        let error = #expect(throws: FileDigestError.self) { try FileDigest.sha256Hex(ofFileAtPath: directory.path) }
        #expect(error == .readFailed(path: directory.path, reason: "Is a directory"))
    }

    /// The real checkpoint's hash is the one SOURCES.md records (computed there with sha256sum); also reports speed.
    @Test(.enabled(if: FetchTestSharedData.weightsDirectory != nil, FetchTestSharedData.skipMessage))
    func realCheckpointMatchesSourcesAndThroughput() throws {
        let weights = try #require(FetchTestSharedData.weightsDirectory)
        let path = weights + "/megvii_ShuffleNetV1_0.5x_g3.pth.tar"
        let clock = ContinuousClock()
        var digest = ""
        let elapsed = try clock.measure { digest = try FileDigest.sha256Hex(ofFileAtPath: path) }
        #expect(digest == FetchTestSharedData.g3SHA256)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print("SHA256 throughput: \(String(format: "%.0f", 2_977_667 / 1e6 / seconds)) MB/s on a 2.98 MB checkpoint")
    }
}
