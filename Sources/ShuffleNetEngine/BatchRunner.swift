/// Runs batches of images through one model on `threads` threads: a single image is split layer by layer
/// (every layer's channels shared by the threads), several images are handed out one at a time to threads
/// that each run whole images (no synchronisation inside an image). Workspaces are planned once.
package final class BatchRunner: @unchecked Sendable {
    package let model: ShuffleNetModel
    package let threads: Int
    private let imagePool: WorkerPool
    private let perThread: [Workspace]
    private let layerSplit: Workspace

    package init(model: ShuffleNetModel, threads: Int = 1) {
        self.model = model
        self.threads = max(1, threads)
        imagePool = WorkerPool(threads: self.threads)
        perThread = (0..<self.threads).map { _ in model.makeWorkspace(threads: 1) }
        layerSplit = self.threads > 1 ? model.makeWorkspace(threads: self.threads) : perThread[0]
    }

    /// `inputs` holds `count` images of `3 x size x size`; `logits` receives `count x numClasses`.
    package func run(inputs: UnsafePointer<Float>, count: Int, logits: UnsafeMutablePointer<Float>) {
        let inputCount = 3 * model.plan.inputSize * model.plan.inputSize
        let classes = model.configuration.numClasses
        if count == 1 {
            model.run(input: inputs, logits: logits, workspace: layerSplit)
            return
        }
        imagePool.run(chunks: count) { image, thread in
            model.run(input: inputs + image * inputCount, logits: logits + image * classes, workspace: perThread[thread])
        }
    }
}
