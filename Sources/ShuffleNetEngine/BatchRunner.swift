import Foundation

/// Runs a batch of images through one model, splitting the images over `threads` workers, each with its
/// own workspace (planned once, reused for every batch).
public final class BatchRunner: @unchecked Sendable {
    public let model: ShuffleNetModel
    public let threads: Int
    private let workspaces: [Workspace]

    public init(model: ShuffleNetModel, threads: Int = 1) {
        self.model = model
        self.threads = max(1, threads)
        workspaces = (0..<max(1, threads)).map { _ in model.makeWorkspace() }
    }

    /// `inputs` holds `count` images of `3 x size x size`; `logits` receives `count x numClasses`.
    public func run(inputs: UnsafePointer<Float>, count: Int, logits: UnsafeMutablePointer<Float>) {
        let inputCount = 3 * model.plan.inputSize * model.plan.inputSize
        let classes = model.configuration.numClasses
        if threads == 1 || count == 1 {
            for i in 0..<count {
                model.run(input: inputs + i * inputCount, logits: logits + i * classes, workspace: workspaces[0])
            }
            return
        }
        let workers = min(threads, count)
        let inputsAddress = UInt(bitPattern: inputs), logitsAddress = UInt(bitPattern: logits)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let x = UnsafePointer<Float>(bitPattern: inputsAddress)!, y = UnsafeMutablePointer<Float>(bitPattern: logitsAddress)!
            var i = worker
            while i < count {
                model.run(input: x + i * inputCount, logits: y + i * classes, workspace: workspaces[worker])
                i += workers
            }
        }
    }
}
