import Testing
import TorchCheckpoint

/// Megvii's official ShuffleNet v1 checkpoints (legacy format), read from the shared data folder.
@Suite(.enabled(if: SharedData.directory != nil, SharedData.missingMessage))
struct MegviiCheckpointTests {
    /// Per group: first conv channels and classifier input width, from Megvii's network.py for 0.5x
    /// (stage widths 240/480 for g3 and 384/768 for g8; conv1 is 12 and 16 channels).
    @Test(arguments: [("g3", 12, 480), ("g8", 16, 768)])
    func loadsEveryTensorWithHandCheckedShapes(group: String, firstChannels: Int, classifierWidth: Int) throws {
        let path = try #require(SharedData.weights(group))
        let all = try TorchCheckpoint.load(contentsOf: path)
        // 295 = every key of the state dict, counted by the Python reference reader (see Scripts/).
        #expect(all.count == 295)
        #expect(all.keys.allSatisfy { $0.hasPrefix("state_dict.module.") })
        let weights = TorchCheckpoint.stateDict(all)
        #expect(weights["first_conv.0.weight"]?.shape == [firstChannels, 3, 3, 3])
        #expect(weights["first_conv.0.weight"]?.strides == [27, 9, 3, 1])
        #expect(weights["classifier.0.weight"]?.shape == [1000, classifierWidth])
        #expect(weights["classifier.0.bias"] == nil) // Megvii's classifier has no bias
        for (name, tensor) in weights {
            if name.hasSuffix("num_batches_tracked") {
                #expect(tensor.dtype == .int64 && tensor.shape == [], "\(name)")
            } else {
                #expect(tensor.dtype == .float32 && tensor.isContiguous, "\(name)")
                #expect(try tensor.floats().count == tensor.elementCount, "\(name)")
            }
        }
        let total = weights.values.reduce(0) { $0 + $1.elementCount }
        #expect(total == (group == "g3" ? 729_613 : 1_030_081)) // element totals from the Python reader
    }

    /// Values printed by `Scripts/make_torch_fixtures.py --megvii <weights dir>`, whose reader is Python's
    /// pickle module plus numpy (no code shared with this package).
    @Test func valuesMatchThePythonReferenceReader() throws {
        let g3 = TorchCheckpoint.stateDict(try TorchCheckpoint.load(contentsOf: try #require(SharedData.weights("g3"))))
        let conv = try #require(g3["first_conv.0.weight"]).floats()
        #expect(Array(conv.prefix(3)) == [0.22373950481414795, -0.46662870049476624, 0.21888898313045502])
        #expect(conv.last == 0.164985790848732)
        let variance = try #require(g3["first_conv.1.running_var"]).floats()
        #expect(Array(variance.prefix(3)) == [12490.6689453125, 46102.66015625, 46757.78125])
        let classifier = try #require(g3["classifier.0.weight"]).floats()
        #expect(Array(classifier.prefix(3)) == [0.010410037823021412, -0.04617726802825928, -0.11433815211057663])
        #expect(classifier.last == 0.040201421827077866)
        #expect(abs(classifier.reduce(0.0) { $0 + Double($1) } - 2.967104363331927) < 1e-6)
        #expect(try g3["first_conv.1.num_batches_tracked"]?.floats() == [300_000])

        let g8 = TorchCheckpoint.stateDict(try TorchCheckpoint.load(contentsOf: try #require(SharedData.weights("g8"))))
        let g8Conv = try #require(g8["first_conv.0.weight"]).floats()
        #expect(Array(g8Conv.prefix(3)) == [0.12823207676410675, 0.037804387509822845, 0.12639985978603363])
        let g8Unit = try #require(g8["features.0.branch_main_1.0.weight"])
        #expect(g8Unit.shape == [48, 16, 1, 1])
        #expect(try g8Unit.floats().last == -0.004672756418585777)
    }
}
