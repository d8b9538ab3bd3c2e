import ArgumentParser
import Foundation
import Imaging

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn image datasets into class-folder PNG trees.",
        subcommands: [ImportIDX.self, ImportFashionMNIST.self]
    )
}

struct ImportIDX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idx",
        abstract: "Write IDX image and label files (MNIST style, raw or .gz) as class folders of PNGs.",
        discussion: "Images become OUT/<class>/<index>.png, the index being the image's position in the file."
    )

    @Option(help: "The IDX file of images (N x H x W unsigned bytes).")
    var images: String
    @Option(help: "The IDX file of labels (N unsigned bytes).")
    var labels: String
    @Option(help: "The output folder; it must be new or empty.")
    var out: String
    @Option(help: "Comma-separated class names in label order (default: the label numbers).")
    var classNames: String?
    @Option(help: "Import only the first N images.")
    var limit: Int?

    /// --class-names as a list: each a folder name of its own (not empty, ".", ".." or with a
    /// slash, which would write elsewhere) and none twice (which would merge classes).
    var classNameList: [String]? {
        get throws {
            guard let classNames else { return nil }
            let names = classNames.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
            for name in names where name.isEmpty || name == "." || name == ".." || name.contains("/") || name.hasPrefix(".") {
                throw ValidationError("--class-names: '\(name)' cannot be a class folder's name (empty, hidden, '.', '..' or with a '/')")
            }
            if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
                throw ValidationError("--class-names: '\(twice)' comes twice (its classes would merge)")
            }
            return names
        }
    }

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, got \(limit)") }
        _ = try classNameList
    }

    func run() throws {
        let names = try classNameList
        try importIDX(images: URL(fileURLWithPath: images), labels: URL(fileURLWithPath: labels),
                      classNames: names, out: out, limit: limit)
    }
}

struct ImportFashionMNIST: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fashion-mnist",
        abstract: "Write Fashion-MNIST (Debian's dataset-fashion-mnist package) as class folders of PNGs."
    )

    enum Split: String, ExpressibleByArgument, CaseIterable { case train, test }

    @Option(help: "The output folder; it must be new or empty.")
    var out: String
    @Option(help: "Which split to import: train (60,000 images) or test (10,000).")
    var split: Split = .train
    @Option(help: "Import only the first N images.")
    var limit: Int?
    @Option(help: "The folder holding the IDX files.")
    var source: String = IDXImport.fashionMNISTFolder.path

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, got \(limit)") }
    }

    func run() throws {
        let files = IDXImport.fashionMNISTFiles(split: split.rawValue, folder: URL(fileURLWithPath: source))
        guard FileManager.default.fileExists(atPath: files.images.path) else {
            throw CommandError("""
                \(files.images.path): not found; install Debian's package dataset-fashion-mnist \
                (apt-get install dataset-fashion-mnist) or point --source at a folder with the IDX files
                """)
        }
        try importIDX(images: files.images, labels: files.labels, classNames: IDXImport.fashionMNISTClasses,
                      out: out, limit: limit)
    }
}

/// Reads the two IDX files, writes the class folders and prints a summary.
private func importIDX(images: URL, labels: URL, classNames: [String]?, out: String, limit: Int?) throws {
    let start = Date()
    let imageArray = try IDXArray.read(from: images)
    let labelArray = try IDXArray.read(from: labels)
    let perClass = try IDXImport.write(images: imageArray, labels: labelArray, imagesPath: images.path,
                                       labelsPath: labels.path, classNames: classNames,
                                       out: URL(fileURLWithPath: out), limit: limit)
    let total = perClass.values.reduce(0, +)
    print("Wrote \(total) images in \(perClass.count) class folders to \(out) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
    for name in perClass.keys.sorted() { print("  \(name): \(perClass[name]!)") }
}
