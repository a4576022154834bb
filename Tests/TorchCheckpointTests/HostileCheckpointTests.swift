import Foundation
import Testing
import TorchCheckpoint

/// Every single-byte damage of the small fixtures must give a TorchCheckpointError naming the file, or
/// tensors whose values can all be read: never a crash, a hang or an unbounded allocation. A
/// deterministic sweep to complement CorruptInputTests' targeted cases; Scripts/fuzz runs the same
/// reader under libFuzzer for much longer.
@Suite struct HostileCheckpointTests {
    @Test(arguments: ["tiny_legacy.pth", "tiny_zip.pth", "tiny_zip_deflated.pth"])
    func everySingleByteDamageIsHandled(fixture: String) throws {
        let whole = try Fixtures.bytes(fixture)
        var loaded = 0
        for index in whole.indices {
            for damage in [{ (byte: UInt8) in byte ^ 0xFF }, { _ in 0 }, { byte in byte &+ 1 }] {
                var damaged = whole
                damaged[index] = damage(whole[index])
                do throws(TorchCheckpointError) {
                    for (_, tensor) in try TorchCheckpoint.loadOrdered(data: damaged, path: "tampered.pth") {
                        let values = try tensor.floats()
                        #expect(values.count == tensor.elementCount)
                    }
                    loaded += 1
                } catch {
                    #expect(error.path == "tampered.pth")
                }
            }
        }
        // Damage to bytes nothing depends on (padding, names, zip comments) may load; most must not.
        #expect(loaded < whole.count * 3)
    }
}
