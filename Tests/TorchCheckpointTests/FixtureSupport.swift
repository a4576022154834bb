import Foundation
import SharedTestData
import Testing
import TorchCheckpoint

/// Locating the committed fixtures, the values Scripts/make_torch_fixtures.py computed for them, and the
/// shared data folder holding Megvii's real checkpoints.
enum Fixtures {
    static func path(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"),
                               "fixture \(name) missing; run Scripts/make_torch_fixtures.py")
        return url.path
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try path(name))))
    }

    struct ExpectedTensor: Decodable {
        let dtype: String
        let shape: [Int]
        let strides: [Int]
        let storageOffset: Int
        let values: [Double]
    }

    /// expected.json: fixture file name -> tensor name -> expectation (computed by numpy, not by this code).
    static func expected() throws -> [String: [String: ExpectedTensor]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try path("expected.json")))
        return try JSONDecoder().decode([String: [String: ExpectedTensor]].self, from: data)
    }
}

/// The shared Megvii checkpoints, located by the `SharedTestData` target.
enum SharedData {
    static let directory = SharedTestData.root
    static let missingMessage = Comment(rawValue: SharedTestData.skipMessage)
    static func weights(_ group: String) -> String? { SharedTestData.checkpoint(groups: Int(group.dropFirst()) ?? 0) }
}
