import Foundation
import Testing
import ShuffleNetEngine

@Suite struct SafeTensorsTests {
    func smallWeights() throws -> ShuffleNetWeights {
        ShuffleNetWeights.random(configuration: try ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 5), seed: 4)
    }

    @Test func roundTripKeepsEverything() throws {
        let weights = try smallWeights()
        let bytes = weights.safeTensors().serialized()
        let file = try SafeTensorsFile(bytes: bytes, path: "mem")
        let loaded = try ShuffleNetWeights(file: file)
        #expect(loaded.configuration == weights.configuration)
        #expect(loaded.tensors == weights.tensors)
        #expect(file.metadata["format"] == "shufflenet-v1" && file.metadata["groups"] == "2")
    }

    @Test func headerMatchesTheSpecByHand() throws {
        // Hand-built file: 8-byte little-endian length, JSON, then the raw F32 bytes of [1.0, -2.0].
        let json = #"{"__metadata__":{"a":"b"},"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        var bytes = withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian, Array.init) + Array(json.utf8)
        bytes += [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]
        let file = try SafeTensorsFile(bytes: bytes, path: "hand")
        #expect(file.metadata == ["a": "b"])
        #expect(try file.floats(file.entry("t")!) == [1, -2])
        // And our writer's output parses with the same layout: length, then JSON starting with "{".
        var writer = SafeTensorsWriter(metadata: ["k": "v"])
        writer.add("x", shape: [1], values: [1])
        let written = writer.serialized()
        let length = written[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(written[8] == UInt8(ascii: "{") && (8 + length) % 8 == 0 && written.count == 8 + length + 4)
    }

    @Test func damagedFilesGiveClearErrors() throws {
        let good = try smallWeights().safeTensors().serialized()
        func header(_ json: String, data: [UInt8] = []) -> [UInt8] {
            withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian, Array.init) + Array(json.utf8) + data
        }
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "shorter than the 8-byte header"),
            ("truncated", Array(good.prefix(good.count - 10)), "truncated"),
            ("huge header length", [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0] + Array(repeating: 0x20, count: 16), "header length"),
            ("bad JSON", header("{\"t\": [1, 2"), "not valid JSON"),
            ("not an object", header("[1, 2]"), "not an object"),
            ("bad dtype", header(#"{"t":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), "dtype"),
            ("wrong size", header(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "expected 8"),
            ("overlap", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                               data: Array(repeating: 0, count: 8)), "overlaps"),
            ("out of range", header(#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [0, 0, 0, 0]), "ends at byte 16"),
            ("hole", header(#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8)), "hole"),
            ("trailing", header(#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 8)), "not described"),
            ("negative shape", header(#"{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "shape"),
        ]
        for (name, bytes, fragment) in cases {
            do {
                _ = try SafeTensorsFile(bytes: bytes, path: "bad.safetensors")
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.description.contains("bad.safetensors") && error.description.contains(fragment),
                        "\(name): \(error.description)")
            }
        }
    }

    @Test func wrongNetworkContentsAreRefused() throws {
        let weights = try smallWeights()
        let shapes = Dictionary(uniqueKeysWithValues: ShuffleNetWeights.expectedTensors(
            for: NetworkPlan(configuration: weights.configuration)).map { ($0.name, $0.shape) })
        func reload(_ edit: (inout [String: String], inout [String: [Float]]) -> Void) -> String? {
            var metadata = weights.metadata, tensors = weights.tensors
            edit(&metadata, &tensors)
            var writer = SafeTensorsWriter(metadata: metadata)
            for name in tensors.keys.sorted() {
                let count = tensors[name]!.count
                let shape = shapes[name] ?? [count]
                writer.add(name, shape: shape.reduce(1, *) == count ? shape : [count], values: tensors[name]!)
            }
            do { _ = try ShuffleNetWeights(file: try SafeTensorsFile(bytes: writer.serialized(), path: "w.safetensors")); return nil }
            catch { return error.description }
        }
        #expect(reload { _, _ in } == nil)
        #expect(reload { m, _ in m["groups"] = "3" }?.contains("w.safetensors") == true)
        #expect(reload { m, _ in m["format"] = nil }?.contains("\"format\" is missing") == true)
        #expect(reload { m, _ in m["channel_shuffle"] = "sideways" }?.contains("channel_shuffle") == true)
        #expect(reload { _, t in t["classifier.0.weight"] = nil }?.contains("missing tensor \"classifier.0.weight\"") == true)
        #expect(reload { _, t in t["extra"] = [1] }?.contains("unexpected tensor \"extra\"") == true)
        #expect(reload { _, t in t["classifier.0.weight"]![3] = .nan }?.contains("non-finite") == true)
        #expect(reload { _, t in t["first_conv.0.weight"] = Array(t["first_conv.0.weight"]!.dropLast()) }?.contains("shape") == true)
    }

    @Test func missingFileAndDirectoryAreNamed() {
        #expect(throws: WeightsError(path: "/nonexistent/w.safetensors", "no such file")) {
            try ShuffleNetWeights(contentsOf: "/nonexistent/w.safetensors")
        }
        #expect(throws: WeightsError(path: "/tmp", "is a directory, not a weights file")) {
            try ShuffleNetWeights(contentsOf: "/tmp")
        }
    }
}
