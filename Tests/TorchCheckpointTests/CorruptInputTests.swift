import Foundation
import Testing
import TorchCheckpoint

/// Damaged and hostile files must produce a `TorchCheckpointError`, never a crash, hang or huge allocation.
@Suite struct CorruptInputTests {
    private func problem(_ bytes: [UInt8], _ label: String = "test") -> TorchCheckpointError.Problem? {
        do {
            _ = try TorchCheckpoint.load(data: bytes, path: label)
            return nil
        } catch {
            #expect(error.path == label)
            #expect(error.description.hasPrefix(label + ": "))
            return error.problem
        }
    }

    @Test(arguments: ["tiny_legacy.pth", "tiny_zip.pth", "tiny_zip64.pth"])
    func everyTruncationFails(fixture: String) throws {
        let bytes = try Fixtures.bytes(fixture)
        for length in 0..<bytes.count {
            #expect(problem(Array(bytes.prefix(length))) != nil, "\(fixture) cut to \(length) bytes loaded")
        }
    }

    @Test(.enabled(if: SharedData.directory != nil, SharedData.missingMessage))
    func truncatedMegviiFileFails() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try #require(SharedData.weights("g3")))))
        // Dense over the pickles (first ~52 KB), sparse over the storages, plus the last bytes.
        let cuts = Array(stride(from: 0, to: 60_000, by: 97)) + Array(stride(from: 60_000, to: bytes.count, by: 40_009))
            + [bytes.count - 8, bytes.count - 1]
        for length in cuts {
            #expect(problem(Array(bytes.prefix(length))) != nil, "g3 cut to \(length) bytes loaded")
        }
    }

    /// Flipping any single byte may still load (a flipped weight in a legacy file is undetectable), but must
    /// never crash; the zip's CRC check catches flips in stored data.
    @Test(arguments: ["tiny_legacy.pth", "tiny_zip.pth"])
    func everySingleByteFlipIsHandled(fixture: String) throws {
        let bytes = try Fixtures.bytes(fixture)
        var failures = 0
        for position in bytes.indices {
            var damaged = bytes
            damaged[position] ^= 0xFF
            if problem(damaged) != nil { failures += 1 }
        }
        #expect(failures > bytes.count / 10, "\(fixture): only \(failures) of \(bytes.count) flips were noticed")
    }

    @Test func zipDataCorruptionIsCaughtByCRC() throws {
        var bytes = try Fixtures.bytes("tiny_zip.pth")
        let tensors = try TorchCheckpoint.load(data: bytes, path: "t")
        #expect(!tensors.isEmpty)
        // The first storage (data/0) starts on a 64-byte boundary holding 0.5 as float32 (00 00 00 3f).
        let start = try #require(stride(from: 0, to: bytes.count - 4, by: 64).first { bytes[$0..<($0 + 4)].elementsEqual([0, 0, 0, 0x3F]) })
        bytes[start + 1] ^= 0x01
        guard case .badZip(let reason, _)? = problem(bytes) else {
            Issue.record("expected a CRC error")
            return
        }
        #expect(reason.contains("CRC"))
    }

    @Test(.enabled(if: SharedData.directory != nil, SharedData.missingMessage))
    func randomDamageToMegviiPickleIsHandled() throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try #require(SharedData.weights("g3")))))
        var generator = SplitMix64(seed: 2024)
        for _ in 0..<300 {
            var damaged = original
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % 52_000) // inside the main pickle
                damaged[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = problem(damaged) // must return, whatever the outcome
        }
    }

    @Test func emptyTextTarAndMissingFiles() throws {
        #expect(problem([]) == .emptyFile)
        guard case .notACheckpoint? = problem(Array("hello, this is a text file\n".utf8)) else {
            Issue.record("text file was not refused as notACheckpoint")
            return
        }
        var tar = [UInt8](repeating: 0, count: 1024)
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        guard case .notACheckpoint(let reason)? = problem(tar) else {
            Issue.record("tar was not refused")
            return
        }
        #expect(reason.contains("tar"))
        #expect(throws: TorchCheckpointError.self) { try TorchCheckpoint.load(contentsOf: "/nonexistent/dir/model.pth") }
    }

    @Test func compressedZipEntryIsRefusedByName() throws {
        guard case .compressedEntry(let name, let method)? = problem(try Fixtures.bytes("tiny_zip_deflated.pth")) else {
            Issue.record("deflated zip was not refused as compressedEntry")
            return
        }
        #expect(name.hasPrefix("archive/") && method == 8)
    }

    // MARK: - Hostile pickles

    @Test func stackUnderflowAndMissingMark() {
        guard case .malformedPickle(let reason, _)? = problem(PickleBytes.legacyFile([])) else {
            Issue.record("STOP on an empty stack was accepted")
            return
        }
        #expect(reason.contains("underflow"))
        guard case .malformedPickle? = problem(PickleBytes.legacyFile([0x4E, 0x74])) else { // NONE TUPLE (no MARK)
            Issue.record("TUPLE without MARK was accepted")
            return
        }
        guard case .malformedPickle? = problem(PickleBytes.legacyFile([0x28, 0x4E, 0x61])) else { // append across MARK
            Issue.record("APPEND below a MARK was accepted")
            return
        }
    }

    @Test func unknownOpcodesNameTheByteAndOffset() {
        let header = PickleBytes.magic.count + PickleBytes.protocolVersion.count + PickleBytes.systemInfo.count + 2
        #expect(problem(PickleBytes.legacyFile([0x4E, 0xFF])) == .unknownOpcode(0xFF, offset: header + 1))
        #expect(problem(PickleBytes.legacyFile([0x82, 0x01])) == .unknownOpcode(0x82, offset: header)) // EXT1
        let message = TorchCheckpointError(path: "f.pth", problem: .unknownOpcode(0xFF, offset: 12)).description
        #expect(message == "f.pth: unsupported pickle opcode 0xff at byte 12")
    }

    @Test func memoAbuse() {
        guard case .malformedPickle(let reason, _)? = problem(PickleBytes.legacyFile([0x68, 0x07])) else { // BINGET 7
            Issue.record("BINGET of an empty memo slot was accepted")
            return
        }
        #expect(reason.contains("memo"))
        // A list that contains itself: must stop at the depth limit, not recurse forever.
        guard case .limitExceeded? = problem(PickleBytes.legacyFile([0x5D, 0x71, 0x00, 0x68, 0x00, 0x61])) else {
            Issue.record("self-containing list was not stopped")
            return
        }
    }

    @Test func deepNestingIsRefusedWithoutRecursingOnTheStack() {
        // A million nested 1-tuples: () then TUPLE1 repeated.
        let body = [0x29] + [UInt8](repeating: 0x85, count: 1_000_000)
        guard case .limitExceeded? = problem(PickleBytes.legacyFile(body)) else {
            Issue.record("deep nesting was accepted")
            return
        }
    }

    @Test func sharedReferencesCannotExplode() {
        // t = (t, t) forty times: a 2^40-leaf tree from 200 bytes.
        var body: [UInt8] = [0x29]
        for _ in 0..<40 { body += [0x71, 0x00, 0x68, 0x00, 0x86] } // BINPUT 0, BINGET 0, TUPLE2
        guard case .limitExceeded? = problem(PickleBytes.legacyFile(body)) else {
            Issue.record("exponential sharing was not stopped")
            return
        }
    }

    @Test func hugeLengthsAreTruncationErrors() {
        let huge: [[UInt8]] = [
            [0x58, 0xFF, 0xFF, 0xFF, 0xFF],                                  // BINUNICODE 4 GB
            [0x8B, 0xFF, 0xFF, 0xFF, 0x7F],                                  // LONG4 2 GB
            [0x8E] + [UInt8](repeating: 0xFF, count: 7) + [0x7F],           // BINBYTES8 2^63
            [0x95] + [UInt8](repeating: 0xFF, count: 8),                     // FRAME 2^64-1
        ]
        for body in huge {
            guard case .truncated? = problem(PickleBytes.legacyFile(body)) else {
                Issue.record("huge length \(body.prefix(2)) was not a truncation error")
                continue
            }
        }
    }

    @Test func arbitraryCallablesAreRefused() {
        let body = PickleBytes.global("os", "system") + PickleBytes.tuple([PickleBytes.string("echo hi")]) + [0x52]
        guard case .unsupportedCallable(let name, _)? = problem(PickleBytes.legacyFile(body)) else {
            Issue.record("os.system was not refused")
            return
        }
        #expect(name == "os.system")
    }

    @Test func singleTensorFileLoads() throws {
        // Sanity check of the hand-assembled layout the hostile cases below modify.
        let bytes = PickleBytes.singleTensorFile(PickleBytes.tensor(numel: 4, shape: [2, 2], strides: [1, 2]), values: [1, 2, 3, 4])
        let tensors = try TorchCheckpoint.load(data: bytes, path: "t")
        #expect(try tensors["w"]?.floats() == [1, 3, 2, 4])
    }

    @Test func tensorGeometryMustFitItsStorage() {
        let cases: [(String, [UInt8])] = [
            ("stride past the end", PickleBytes.tensor(numel: 4, shape: [2, 2], strides: [3, 1])),
            ("offset past the end", PickleBytes.tensor(numel: 4, offset: 3, shape: [2], strides: [1])),
            ("overflowing shape", PickleBytes.tensor(numel: 4, shape: [1 << 62, 4], strides: [1, 1])),
            ("overflowing stride", PickleBytes.tensor(numel: 4, shape: [3], strides: [Int64.max / 2])),
            ("negative size", PickleBytes.tensor(numel: 4, shape: [-1], strides: [1])),
        ]
        for (label, tensor) in cases {
            let outcome = problem(PickleBytes.singleTensorFile(tensor, values: [1, 2, 3, 4]))
            switch outcome {
            case .badTensor?, .malformedPickle?: continue
            default: Issue.record("\(label): got \(String(describing: outcome))")
            }
        }
    }

    @Test func hugeDeclarationsAndBroadcastsAreRefused() {
        let hugeStorage = PickleBytes.tensor(numel: 1 << 40, shape: [1], strides: [1])
        guard case .badStorage? = problem(PickleBytes.singleTensorFile(hugeStorage, values: [1])) else {
            Issue.record("a 4 TB storage declaration was accepted")
            return
        }
        let broadcast = PickleBytes.tensor(numel: 1, shape: [1 << 20, 1 << 20], strides: [0, 0])
        guard case .limitExceeded? = problem(PickleBytes.singleTensorFile(broadcast, values: [1])) else {
            Issue.record("a 2^40-element zero-stride tensor was accepted")
            return
        }
    }

    @Test func storageCountMustMatchDeclaration() {
        var bytes = PickleBytes.singleTensorFile(PickleBytes.tensor(numel: 4, shape: [4], strides: [1]), values: [1, 2, 3, 4])
        bytes[bytes.count - 16 - 8] = 5 // the 8-byte element count before the 16 storage bytes
        guard case .badStorage(let key, _)? = problem(bytes) else {
            Issue.record("storage count mismatch was accepted")
            return
        }
        #expect(key == "0")
    }
}

/// Small deterministic generator so the random-damage test is reproducible.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
