import Testing
import TorchCheckpoint

/// The tiny checkpoints made by Scripts/make_torch_fixtures.py must load to exactly the tensors numpy
/// computed for them: same names, dtype, shape, strides, offsets and values.
@Suite struct FixtureTests {
    static let readable = ["tiny_legacy.pth", "tiny_zip.pth", "tiny_zip64.pth", "tiny_zip_bigendian.pth"]

    @Test(arguments: readable)
    func loadsExpectedTensors(fixture: String) throws {
        let expected = try #require(try Fixtures.expected()[fixture])
        let tensors = try TorchCheckpoint.load(contentsOf: try Fixtures.path(fixture))
        #expect(Set(tensors.keys) == Set(expected.keys))
        for (name, want) in expected {
            let tensor = try #require(tensors[name], "\(fixture): no tensor \(name)")
            #expect(tensor.dtype.rawValue == want.dtype, "\(fixture) \(name)")
            #expect(tensor.shape == want.shape, "\(fixture) \(name)")
            #expect(tensor.strides == want.strides, "\(fixture) \(name)")
            #expect(tensor.storageOffset == want.storageOffset, "\(fixture) \(name)")
            #expect(tensor.elementCount == want.values.count, "\(fixture) \(name)")
            // Every fixture value is exactly representable as Float, except 1e-300 which rounds to 0 both ways.
            #expect(try tensor.floats() == want.values.map { Float($0) }, "\(fixture) \(name)")
        }
    }

    @Test func transposedViewSharesStorageAndReadsTransposed() throws {
        let tensors = try TorchCheckpoint.load(contentsOf: try Fixtures.path("tiny_legacy.pth"))
        let weight = try #require(tensors["state_dict.module.conv.weight"])
        let transposed = try #require(tensors["state_dict.module.conv.weight_t"])
        #expect(weight.isContiguous)
        #expect(!transposed.isContiguous)
        // Hand check: [[0.5, -1.25, 3], [0.001, -0, 42]] transposed is [[0.5, 0.001], [-1.25, -0], [3, 42]].
        #expect(try transposed.floats() == [0.5, 0.001, -1.25, -0.0, 3.0, 42.0])
    }

    @Test func scalarAndOffsetByHand() throws {
        let tensors = try TorchCheckpoint.load(contentsOf: try Fixtures.path("tiny_zip.pth"))
        let count = try #require(tensors["state_dict.module.bn.num_batches_tracked"])
        #expect(count.shape == [] && count.dtype == .int64 && count.elementCount == 1)
        #expect(try count.floats() == [7])
        // Storage [9, 9.5, 0.25, -7.5, 1e30] read from offset 2.
        #expect(try tensors["state_dict.module.bn.bias"]?.floats() == [0.25, -7.5, 1e30])
        // _rebuild_tensor_v3 on an UntypedStorage of three float32 [2, 4, -8], offset 1.
        #expect(try tensors["state_dict.module.v3"]?.floats() == [4, -8])
        #expect(try tensors["state_dict.module.empty"]?.floats() == [])
    }

    @Test func stateDictHelperStripsContainerAndDataParallelPrefix() throws {
        let all = try TorchCheckpoint.load(contentsOf: try Fixtures.path("tiny_legacy.pth"))
        let weights = TorchCheckpoint.stateDict(all)
        let expectedNames = try #require(try Fixtures.expected()["tiny_legacy.pth"]).keys
            .filter { $0.hasPrefix("state_dict.module.") }
            .map { String($0.dropFirst("state_dict.module.".count)) }
        #expect(Set(weights.keys) == Set(expectedNames))
        #expect(weights["conv.weight"]?.shape == [2, 3])
        let keepingPrefix = TorchCheckpoint.stateDict(all, droppingModulePrefix: false)
        #expect(keepingPrefix["module.conv.weight"] != nil)
    }

    @Test func orderedLoadFollowsThePickle() throws {
        let ordered = try TorchCheckpoint.loadOrdered(contentsOf: try Fixtures.path("tiny_zip.pth"))
        #expect(ordered.first?.name == "state_dict.module.conv.weight")
        #expect(ordered.last?.name == "extras.1.0")
    }
}
