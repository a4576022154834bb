import Foundation
import ShuffleNetEngine

/// Times the engine on synthetic input, the way `shufflenet bench` reports it: the first run apart (it pays
/// for page faults and cold caches), then warm-up runs, then timed runs of one batch each.
package struct Benchmark: Sendable {
    package struct Settings: Sendable {
        package var batch = 1
        package var threads = 1
        package var warmup = 5
        /// Timed runs; when `duration` is set, runs continue until both are reached.
        package var iterations = 50
        package var duration: Double? = nil
        /// `batch x 3 x size x size` floats to run on; random values when nil.
        package var input: [Float]? = nil
        package init() {}
    }

    package struct Result: Sendable {
        package let configuration: ShuffleNetConfiguration
        /// fp32 or int8: the model's.
        package let precision: Precision
        package let settings: Settings
        package let parameters: Int
        package let multiplyAdds: Int
        package let firstMilliseconds: Double
        /// Per batch, in milliseconds, sorted.
        package let latencies: [Double]
        /// The logits of the last run, `batch x classes`.
        package let lastLogits: [Float]

        package func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let rank = p / 100 * Double(latencies.count - 1)
            let low = Int(rank.rounded(.down)), high = min(low + 1, latencies.count - 1)
            return latencies[low] + (latencies[high] - latencies[low]) * (rank - Double(low))
        }
        package var mean: Double { latencies.reduce(0, +) / Double(max(latencies.count, 1)) }
        package var imagesPerSecond: Double { Double(settings.batch) / (percentile(50) / 1000) }
        /// Two floating-point operations per multiply-add, at the median latency.
        package var gigaflopsPerSecond: Double { 2 * Double(multiplyAdds) * Double(settings.batch) / (percentile(50) / 1000) / 1e9 }
    }

    package let model: ShuffleNetModel
    package init(model: ShuffleNetModel) { self.model = model }

    package func run(_ settings: Settings) -> Result {
        let runner = BatchRunner(model: model, threads: settings.threads)
        let inputCount = 3 * model.plan.inputSize * model.plan.inputSize
        var generator = SystemRandomNumberGenerator()
        let inputs = settings.input ?? (0..<(settings.batch * inputCount)).map { _ in Float.random(in: 0..<255, using: &generator) }
        var logits = [Float](repeating: 0, count: settings.batch * model.configuration.numClasses)
        func once() -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            inputs.withUnsafeBufferPointer { x in
                logits.withUnsafeMutableBufferPointer { y in
                    runner.run(inputs: x.baseAddress!, count: settings.batch, logits: y.baseAddress!)
                }
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        let first = once()
        for _ in 0..<settings.warmup { _ = once() }
        var latencies: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        while latencies.count < settings.iterations
                || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < (settings.duration ?? 0) {
            latencies.append(once())
        }
        let plan = model.plan
        return Result(configuration: model.configuration, precision: model.precision, settings: settings, parameters: plan.parameterCount,
                      multiplyAdds: plan.multiplyAdds, firstMilliseconds: first, latencies: latencies.sorted(),
                      lastLogits: logits)
    }
}
