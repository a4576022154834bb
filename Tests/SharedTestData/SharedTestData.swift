import Foundation

/// Locates the project's shared data (Megvii's checkpoints and 50 ImageNet photos, never committed) and the
/// reference outputs made by `Scripts/make_reference_logits`, for tests that use them when present and skip,
/// saying why, when not.
public enum SharedTestData {
    public static let skipMessage =
        "shared data not found: set SHUFFLENET_SHARED_DATA to the shufflenet_v1 data folder (tests using it are skipped)"

    /// `$SHUFFLENET_SHARED_DATA`, else the first `../shared/data/shufflenet_v1` found walking up from the
    /// package root or the current directory.
    public static let root: String? = {
        let manager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["SHUFFLENET_SHARED_DATA"] {
            return manager.fileExists(atPath: explicit + "/weights") ? explicit : nil
        }
        for start in [packageRoot, manager.currentDirectoryPath] {
            var directory = URL(fileURLWithPath: start).standardizedFileURL
            while directory.path != "/" {
                let candidate = directory.appendingPathComponent("../shared/data/shufflenet_v1").standardizedFileURL.path
                if manager.fileExists(atPath: candidate + "/weights") { return candidate }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }()

    public static var weightsDirectory: String? { root.map { $0 + "/weights" } }
    public static var photosDirectory: String? { root.map { $0 + "/imagenet-sample-images" } }

    public static func checkpoint(groups: Int) -> String? {
        weightsDirectory.map { "\($0)/megvii_ShuffleNetV1_0.5x_g\(groups).pth.tar" }
    }

    /// The 50 sample photos, sorted, or [] when absent.
    public static var photos: [String] {
        guard let dir = photosDirectory,
              let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return names.filter { $0.hasSuffix(".JPEG") }.sorted().map { "\(dir)/\($0)" }
    }

    /// The package's root folder (this file is `<root>/Tests/SharedTestData/SharedTestData.swift`).
    public static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Where `Scripts/make_reference_logits` writes the NumPy reference's outputs:
    /// `$SHUFFLENET_REFERENCE_DIR`, else `<package root>/.build/reference`.
    public static var referenceDirectory: String {
        ProcessInfo.processInfo.environment["SHUFFLENET_REFERENCE_DIR"] ?? packageRoot + "/.build/reference"
    }
}
