import Foundation

/// The path of `target` as a Markdown document at `document` links to it: relative to the
/// document's folder, so the picture shows wherever the two are viewed or committed together
/// (`--markdown Samples/x/report.md --roc Samples/x/roc.svg` links `roc.svg`).
func markdownLink(to target: String, fromDocumentAt document: String) -> String {
    let targetParts = URL(fileURLWithPath: target).standardizedFileURL.pathComponents
    let folderParts = URL(fileURLWithPath: document).deletingLastPathComponent().standardizedFileURL.pathComponents
    let shared = zip(targetParts, folderParts).prefix { $0 == $1 }.count
    let parts = Array(repeating: "..", count: folderParts.count - shared) + targetParts[shared...]
    return parts.joined(separator: "/")
}
