import Foundation
import ShuffleNetEngine

/// Finds the converted weights for a published checkpoint, making them on first use: cached safetensors
/// file if present and valid, else the checkpoint from a local mirror or the pinned download (sha256
/// verified by `CheckpointFetcher`), converted and cached. Every step is reported through `fetcher.log`.
public struct DefaultWeights: Sendable {
    /// Where checkpoints come from, and where the converted weights are cached (`fetcher.cacheDirectory`).
    public let fetcher: CheckpointFetcher

    /// Default weights obtained through `fetcher`, e.g. `DefaultWeights(fetcher: .fromEnvironment())`.
    public init(fetcher: CheckpointFetcher) { self.fetcher = fetcher }

    /// Path of a valid safetensors file for `published`.
    public func resolve(_ published: PublishedWeights = .standard) throws(ClassifierError) -> String {
        let cached = (fetcher.cacheDirectory as NSString).appendingPathComponent(published.cacheFileName)
        if FileManager.default.fileExists(atPath: cached) {
            do {
                _ = try ShuffleNetWeights(contentsOf: cached)
                return cached
            } catch {
                fetcher.log("cached weights \(cached) are unusable (\(error.problem)); converting them again")
            }
        }
        let checkpoint: String
        do {
            checkpoint = try fetcher.fetch(published.checkpoint)
        } catch {
            throw ClassifierError.weightsUnavailable("\(error)")
        }
        fetcher.log("converting \(checkpoint) to \(cached)")
        do {
            let weights = try CheckpointConverter.convert(checkpointAt: checkpoint, sourceSHA256: published.checkpoint.sha256)
            try FileManager.default.createDirectory(atPath: fetcher.cacheDirectory, withIntermediateDirectories: true)
            try weights.safeTensors().write(to: cached)
        } catch let error as WeightsError {
            throw ClassifierError.weights(error)
        } catch {
            throw ClassifierError.weightsUnavailable("cannot create cache directory \(fetcher.cacheDirectory): \(error.localizedDescription)")
        }
        return cached
    }
}
