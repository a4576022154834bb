import Foundation
import ShuffleNetEngine
import Testing

/// Tampered and absurd weights files: each must be refused with a WeightsError naming the file, never
/// crash, never be half-trusted. Complements SafeTensorsTests (which covers the common damages one
/// by one) with sweeps and the cases a hostile file would use: integer overflow in offsets and
/// shapes, non-finite values hidden in other dtypes, wrong dtypes for weights. Scripts/fuzz runs the
/// same loader under libFuzzer for much longer.
@Suite struct WeightsHostileTests {
    static func smallWeightsFile() throws -> [UInt8] {
        let configuration = try ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 5)
        return ShuffleNetWeights.random(configuration: configuration, seed: 9).safeTensors().serialized()
    }

    /// Loads as the CLI does: parse, then check against the network the metadata describes.
    static func load(_ bytes: [UInt8]) throws(WeightsError) -> ShuffleNetWeights {
        try ShuffleNetWeights(file: SafeTensorsFile(bytes: bytes, path: "tampered.safetensors"))
    }

    static func header(_ json: String, data: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian, Array.init) + Array(json.utf8) + data
    }

    @Test func everyTruncationIsRefused() throws {
        let good = try Self.smallWeightsFile()
        #expect(throws: Never.self) { try Self.load(good) }
        // Every cut in the first 64 bytes (length field, start of JSON), then strides through the
        // header and the data section (each load parses the whole header, so this is kept to ~1000).
        let headerEnd = 8 + good[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let cuts = Array(0..<64) + Array(stride(from: 64, to: headerEnd + 16, by: 11))
            + Array(stride(from: headerEnd + 16, to: good.count, by: 997)) + [good.count - 1]
        for length in cuts {
            do {
                _ = try Self.load(Array(good.prefix(length)))
                Issue.record("accepted when cut to \(length) of \(good.count) bytes")
            } catch {
                #expect(error.path == "tampered.safetensors")
            }
        }
    }

    /// Each header byte replaced by characters that break JSON, numbers or names. Whatever loads
    /// must still be a complete, finite set of weights (the initialiser's checks).
    @Test func headerByteDamageNeverCrashes() throws {
        let good = try Self.smallWeightsFile()
        let headerEnd = 8 + good[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        // A prime stride, so the damaged positions fall on every kind of JSON token over the header.
        for index in stride(from: 0, to: headerEnd, by: 7) {
            for replacement in [UInt8(ascii: "9"), UInt8(ascii: "\""), 0xFF] {
                var damaged = good
                damaged[index] = replacement
                if let weights = try? Self.load(damaged) {
                    #expect(weights.tensors.values.allSatisfy { $0.allSatisfy(\.isFinite) })
                }
            }
        }
    }

    @Test(arguments: [
        ("offsets beyond Int", #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}}"#, "data_offsets"),
        ("negative offset", #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, "data_offsets"),
        ("reversed offsets", #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, "data_offsets"),
        ("fractional offset", #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}"#, "data_offsets"),
        ("shape overflow", #"{"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}"#, "absurdly large"),
        ("shape of strings", #"{"t":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}"#, "shape"),
        ("dtype missing", #"{"t":{"shape":[1],"data_offsets":[0,4]}}"#, "dtype"),
        ("metadata not strings", #"{"__metadata__":{"groups":3}}"#, "not a string"),
        ("entry not an object", #"{"t":[1,2,3]}"#, "not an object"),
        ("deeply nested JSON", String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), "JSON"),
    ])
    func malformedHeaders(name: String, json: String, fragment: String) {
        do {
            _ = try SafeTensorsFile(bytes: Self.header(json, data: [0, 0, 0, 0]), path: "tampered.safetensors")
            Issue.record("\(name): accepted")
        } catch {
            #expect(error.description.hasPrefix("tampered.safetensors: "), "\(name): \(error)")
            #expect(error.problem.contains(fragment), "\(name): \(error.problem)")
        }
    }

    @Test func headerLengthsThatDoNotFit() {
        for length: UInt64 in [0, 1, 7, UInt64.max, UInt64(Int.max) + 1, 200_000_000] {
            let bytes = withUnsafeBytes(of: length.littleEndian, Array.init) + Array("{}      ".utf8)
            #expect(throws: WeightsError.self, "header length \(length)") {
                try SafeTensorsFile(bytes: bytes, path: "tampered.safetensors")
            }
        }
    }

    /// NaN and infinity stored as F16, BF16 and F64 become non-finite Float32 and must be caught by
    /// the weights checks, whatever the file's dtype.
    @Test(arguments: [("F16", [0x00, 0x7E] as [UInt8]), ("F16", [0x00, 0x7C]), ("BF16", [0xC0, 0x7F]),
                      ("F64", [0, 0, 0, 0, 0, 0, 0xF0, 0x7F])])
    func nonFiniteValuesInAnyDtypeAreRefused(dtype: String, value: [UInt8]) throws {
        let good = try Self.load(Self.smallWeightsFile())
        let name = "classifier.0.weight"
        let count = try #require(good.tensors[name]?.count)
        let size = value.count
        var writer = SafeTensorsWriter(metadata: good.metadata)
        for (tensor, shape) in ShuffleNetWeights.expectedTensors(for: NetworkPlan(configuration: good.configuration)) where tensor != name {
            writer.add(tensor, shape: shape, values: good.tensors[tensor] ?? [])
        }
        // Append the tampered tensor by hand, in the other dtype, after the writer's F32 ones.
        let base = writer.serialized()
        let headerLength = base[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let dataLength = base.count - 8 - headerLength
        var json = String(decoding: base[8..<(8 + headerLength)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        json.removeLast()  // the closing brace
        json += #","\#(name)":{"dtype":"\#(dtype)","shape":[5,\#(count / 5)],"data_offsets":[\#(dataLength),\#(dataLength + count * size)]}}"#
        var data = [UInt8](repeating: 0, count: count * size)
        data.replaceSubrange((size * 7)..<(size * 8), with: value)  // element 7
        let tampered = Self.header(json, data: Array(base[(8 + headerLength)...]) + data)
        let error = try #require(throws: WeightsError.self) { try Self.load(tampered) }
        #expect(error.problem.contains("non-finite") && error.problem.contains("element 7"), "\(error.problem)")
    }

    @Test func integerDtypeForAWeightIsRefused() throws {
        let json = #"{"t":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#
        let file = try SafeTensorsFile(bytes: Self.header(json, data: [1, 0, 0, 0]), path: "tampered.safetensors")
        let entry = try #require(file.entry("t"))
        let error = try #require(throws: WeightsError.self) { try file.floats(entry) }
        #expect(error.problem.contains("floating-point"), "\(error.problem)")
    }
}
