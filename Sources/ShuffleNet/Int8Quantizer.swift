import Foundation
import ShuffleNetEngine

/// Makes an int8 network from an fp32 one (`shufflenet quantize`): decodes and preprocesses calibration photos
/// exactly as `classify` does, runs the fp32 network (BatchNorm folded) on them, records every tensor the int8
/// network stores, chooses each tensor's map with a `CalibrationMethod`, and quantizes the weights.
package struct Int8Quantizer {
    package let classifier: ImageClassifier
    package let method: CalibrationMethod
    /// How weights become codes (`WeightRounding`); `.gptq` also accumulates every layer's input Gram matrix
    /// during the calibration pass.
    package var rounding = WeightRounding.standard
    /// Rounds of empirical bias correction (each one more pass of the int8 reference over the photos).
    package var biasCorrectionRounds = 0
    /// Whether the file also carries the fp32 weights at 16 bits for rechecking near ties (`RecheckWeights`).
    package var recheckWeights = true

    package init(classifier: ImageClassifier, method: CalibrationMethod) {
        self.classifier = classifier
        self.method = method
    }

    package struct Result {
        package let weights: QuantizedWeights
        package let photosUsed: Int
        /// Photos that could not be read, with the reason (left out).
        package let unreadable: [String]
    }

    /// Calibrates on `paths` (in order; deterministic); `progress(failed)` after each.
    package func quantize(paths: [String], progress: ((_ failed: Bool) -> Void)? = nil) throws(WeightsError) -> Result {
        guard let float32 = classifier.weights.float32 else {
            throw WeightsError(path: "weights", "already int8: quantize reads fp32 weights")
        }
        let folded = FoldedNetwork(weights: float32)
        var statistics = ActivationStatistics(plan: folded.plan)
        var grams = rounding == .gptq ? LayerGrams(plan: folded.plan) : nil
        var unreadable: [String] = []
        var input = [Float](repeating: 0, count: Preprocessor.tensorCount)
        var used: [String] = []
        for path in paths {
            do {
                _ = try input.withUnsafeMutableBufferPointer { buffer throws(ClassifierError) in
                    try classifier.writeInput(forImageAt: path, into: buffer)
                }
            } catch {
                unreadable.append("\(error)")
                progress?(true)
                continue
            }
            if grams == nil {
                _ = folded.logits(for: input, observe: { point, values in statistics.add(point.index, values) })
            } else {
                let classifierIndex = grams!.classifierIndex
                _ = folded.logits(for: input, layer: { index, layerInput, size, _ in
                    grams!.add(layer: index, input: layerInput, size: size)
                }, observe: { point, values in
                    statistics.add(point.index, values)
                    if case .pooledFeatures = point { grams!.add(layer: classifierIndex, input: values, size: 1) }
                })
            }
            statistics.finishImage()
            used.append(path)
            progress?(false)
        }
        guard statistics.images > 0 else {
            let reasons = unreadable.prefix(3).joined(separator: "; ") + (unreadable.count > 3 ? "; ..." : "")
            throw WeightsError(path: "calibration photos", paths.isEmpty ? "no image files found" : "none of the \(paths.count) could be read (\(reasons))")
        }
        let metadata = classifier.weights.metadata
        var weights = try folded.quantized(statistics: statistics, method: method, metadata: metadata, rounding: rounding, grams: grams,
                                            recheckWeights: recheckWeights)
        for _ in 0..<biasCorrectionRounds {
            // Each layer alone on the fp32 network's own input: its mean shift is its own rounding and clipping.
            let int8Means = PreActivationMeans(plan: folded.plan), fp32Layer = PreActivationMeans(plan: folded.plan)
            let network = QuantizedReferenceNetwork(weights: weights)
            for path in used {
                guard (try? input.withUnsafeMutableBufferPointer({ buffer throws(ClassifierError) in
                    try classifier.writeInput(forImageAt: path, into: buffer)
                })) != nil else { continue }
                _ = folded.logits(for: input, layer: { index, layerInput, size, output in
                    fp32Layer.add(index, output)
                    int8Means.add(index, network.layerAlone(index, input: layerInput, size: size))
                })
            }
            weights = try weights.correctingBiases(int8Means: int8Means, fp32Means: fp32Layer)
        }
        return Result(weights: weights, photosUsed: statistics.images, unreadable: unreadable)
    }

    /// Top-1 of the fp32 network and of `int8` on each readable photo (nil for unreadable ones), and int8's top-1
    /// as `classify` gives it with `recheck` (`ImageClassifier.recheckNearTie`; the same as int8's when the weights
    /// carry no recheck weights). The int8 network is the engine `classify` runs (the int8 reference, without
    /// rechecks, where its weights cannot be packed, which the load checks make a bug): they compute the same
    /// integers, but the engine's conv1 is the fp32 engine's, whose rounding can move a pooled code by one step.
    package func compare(_ int8: QuantizedWeights, paths: [String], recheck: Int8Recheck = .standard)
        -> [(fp32: Int, int8: Int, rechecked: Int, fp32Logits: [Float])?] {
        let engine = try? ImageClassifier(weights: .int8(int8), int8Recheck: recheck)
        let workspace = engine?.model.makeWorkspace()
        var recheckWorkspace: Workspace?
        let reference = QuantizedReferenceNetwork(weights: int8)
        var input = [Float](repeating: 0, count: Preprocessor.tensorCount)
        return paths.map { path in
            do {
                _ = try input.withUnsafeMutableBufferPointer { buffer throws(ClassifierError) in
                    try classifier.writeInput(forImageAt: path, into: buffer)
                }
            } catch { return nil }
            guard let fp32 = try? classifier.logits(forInput: input) else { return nil }
            func top(_ x: [Float]) -> Int { x.indices.max { x[$0] < x[$1] } ?? 0 }
            guard let engine, let planned = workspace else {
                let logits = reference.run(input).logits
                return (top(fp32), top(logits), top(logits), fp32)
            }
            var logits = [Float](repeating: 0, count: engine.model.configuration.numClasses)
            let computed = input.withUnsafeBufferPointer { x in
                logits.withUnsafeMutableBufferPointer { y in
                    engine.model.run(input: x.baseAddress!, logits: y.baseAddress!, workspace: planned)
                    let computed = top(Array(y))
                    engine.recheckNearTie(input: x.baseAddress!, logits: y, workspace: &recheckWorkspace)
                    return computed
                }
            }
            return (top(fp32), computed, top(logits), fp32)
        }
    }
}
