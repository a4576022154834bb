import ArgumentParser
import ShuffleNet
import ShuffleNetEngine

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a PyTorch ShuffleNet v1 checkpoint (Megvii's layout, legacy or zip torch.save) to safetensors.",
        discussion: "Reads the checkpoint in Swift (no Python or torch needed), infers scale and groups from the tensor shapes, checks every tensor, and writes the file documented in Weights/README.md."
    )

    @Argument(help: ArgumentHelp("The .pth / .pth.tar checkpoint.", valueName: "checkpoint"))
    var checkpoint: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The safetensors file to write.", valueName: "out.safetensors"))
    var output: String

    @Option(name: .long, help: "Channel-shuffle convention the checkpoint was trained with: megvii (Megvii's code) or paper.")
    var shuffle: String = ChannelShuffleConvention.megvii.rawValue

    @Option(name: .long, help: "Input preprocessing the checkpoint expects: megvii (BGR 0..255, OpenCV resize) or torchvision.")
    var preprocessing: String = "megvii"

    func validate() throws {
        guard ChannelShuffleConvention(rawValue: shuffle) != nil else {
            throw ValidationError("--shuffle must be megvii or paper")
        }
        guard ["megvii", "torchvision"].contains(preprocessing) else {
            throw ValidationError("--preprocessing must be megvii or torchvision")
        }
    }

    func run() throws {
        do {
            let weights = try CheckpointConverter.convert(
                checkpointAt: checkpoint, shuffle: ChannelShuffleConvention(rawValue: shuffle) ?? .megvii,
                preprocessing: preprocessing)
            try weights.safeTensors().write(to: output)
            let plan = NetworkPlan(configuration: weights.configuration)
            print("wrote \(output): \(weights.configuration), \(plan.parameterCount) parameters, \(weights.tensors.count) tensors")
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
    }
}
