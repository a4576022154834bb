import Foundation
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

enum SharedData {
    /// $SHUFFLENET_SHARED_DATA, else the first `../shared/data/shufflenet_v1` found walking up from the
    /// current directory.
    static let directory: String? = {
        let fileManager = FileManager.default
        if let fromEnvironment = ProcessInfo.processInfo.environment["SHUFFLENET_SHARED_DATA"] {
            return fileManager.fileExists(atPath: fromEnvironment) ? fromEnvironment : nil
        }
        var directory = URL(fileURLWithPath: fileManager.currentDirectoryPath)
        while true {
            let candidate = directory.appendingPathComponent("../shared/data/shufflenet_v1").standardized
            if fileManager.fileExists(atPath: candidate.path) { return candidate.path }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { return nil }
            directory = parent
        }
    }()

    static let missingMessage: Comment =
        "shared data not found (set SHUFFLENET_SHARED_DATA or keep ../shared/data/shufflenet_v1 above the working directory); skipping"

    static func weights(_ group: String) -> String? {
        directory.map { "\($0)/weights/megvii_ShuffleNetV1_0.5x_\(group).pth.tar" }
    }
}
