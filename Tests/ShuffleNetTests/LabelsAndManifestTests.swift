import Foundation
import SharedTestData
import ShuffleNet
import Testing

@Suite struct LabelsAndManifestTests {
    @Test func embeddedClassesEqualTheTSV() throws {
        let tsv = try String(contentsOfFile: SharedTestData.packageRoot + "/Weights/imagenet-classes.tsv", encoding: .utf8)
        let rows = tsv.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == 1000)
        #expect(rows.map { $0[0] } == (0..<1000).map(String.init))
        #expect(rows.map { $0[1] } == ImageNetClasses.wordNetIDs)
        #expect(rows.map { $0[2] } == ImageNetClasses.names)
        // Spot checks from the ILSVRC 2012 class list.
        #expect(ImageNetClasses.names[0] == "tench" && ImageNetClasses.wordNetIDs[0] == "n01440764")
        #expect(ImageNetClasses.names[340] == "zebra" && ImageNetClasses.names[999] == "toilet tissue")
    }

    @Test func manifestFileMatchesTheBuiltInList() throws {
        struct Manifest: Decodable {
            struct Entry: Decodable {
                let name: String, scale: Double, groups: Int, source_url: String, source_file_name: String
                let source_sha256: String, source_bytes: Int, claimed_top1: Double
            }
            let `default`: String
            let weights: [Entry]
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: SharedTestData.packageRoot + "/Weights/manifest.json"))
        let manifest = try JSONDecoder().decode(Manifest.self, from: data)
        #expect(manifest.default == PublishedWeights.standard.name)
        #expect(manifest.weights.count == PublishedWeights.all.count)
        for (entry, published) in zip(manifest.weights, PublishedWeights.all) {
            #expect(entry.name == published.name && entry.scale == published.scale && entry.groups == published.groups)
            #expect(entry.source_url == published.checkpoint.url && entry.source_file_name == published.checkpoint.fileName)
            #expect(entry.source_sha256 == published.checkpoint.sha256 && entry.source_bytes == published.checkpoint.byteCount)
            #expect(entry.claimed_top1 == published.claimedTop1)
        }
    }
}
