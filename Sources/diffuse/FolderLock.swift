import Foundation

/// An exclusive claim on an output folder while a command writes it: an flock(2) on
/// FOLDER/.diffuse.lock, which the kernel releases when the process ends, however it ends, so a
/// lock left by a killed process is never stale. A second `train`, `train-evaluator` or `sample`
/// on the folder is refused instead of both writing it.
final class FolderLock {
    static let fileName = ".diffuse.lock"
    private let descriptor: Int32

    /// Creates `folder` when needed and locks it; throws a CommandError when another process
    /// holds it or the folder cannot be made.
    init(_ folder: URL) throws {
        try makeFolder(folder)
        let path = folder.appendingPathComponent(Self.fileName).path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CommandError("\(folder.path): cannot be locked (\(String(cString: strerror(errno))))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw CommandError("\(folder.path): in use by another diffuse process\(holder.map { " (\($0))" } ?? ""); "
                               + "wait for it to end or choose another folder")
        }
        let note = Array("process \(getpid()) on \(ProcessInfo.processInfo.hostName)\n".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = note.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) } }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }   // closing releases the lock
}

/// Creates `folder` (and its parents) with a one-line error naming it and the reason, instead
/// of Foundation's error dump: a file in the way, a read-only file system, no permission.
func makeFolder(_ folder: URL) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw CommandError("\(folder.path): is a file, not a folder") }
        return
    }
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
        let posix = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? $0.code : nil }
        throw CommandError("\(folder.path): cannot create the folder (\(posix.map { String(cString: strerror(Int32($0))) } ?? error.localizedDescription))")
    }
}
