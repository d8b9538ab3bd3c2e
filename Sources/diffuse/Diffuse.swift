import ArgumentParser

@main
struct Diffuse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffuse",
        abstract: "Denoising-diffusion models for synthetic image sets, on the CPU.",
        discussion: """
            Train a small U-Net on a folder of images, sample synthetic sets with DDPM, DDIM and \
            faster solvers, compare schedulers, and evaluate quality, diversity and memorization.
            """,
        version: diffuseVersion,
        subcommands: [Import.self, DatasetCommand.self, Train.self, Sample.self, Compare.self, Evaluate.self, TrainOnSyntheticCommand.self, Audit.self,
                      TrainEvaluator.self]
    )
}
