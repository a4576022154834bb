import Foundation

/// Reads a whole file; checkpoints are a few MB and every format needs random access anyway.
enum FileBytes {
    static func read(_ path: String) throws(TorchCheckpointError) -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw TorchCheckpointError(path: path, problem: .unreadable(reason: error.localizedDescription))
        }
    }
}
