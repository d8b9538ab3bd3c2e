import Foundation
import ParserFuzzing

// Built two ways (Fuzzing/README.md):
//
// - plainly, `fuzz-parsers TARGET PATH...` replays files (or every file of folders) through a
//   parser and prints what each gave: how a crash the fuzzer saved is reproduced and debugged;
// - with `-sanitize=fuzzer,address -DFUZZING`, `FUZZ_TARGET=TARGET fuzz-parsers [libFuzzer
//   flags] CORPUS...` hands its arguments to libFuzzer's driver, which calls the parser with every
//   input it makes. (SwiftPM links an executable's `main` to this module's, so the tool keeps its
//   own `main` and starts libFuzzer through LLVMFuzzerRunDriver rather than libFuzzer's `main`.)

@main
struct FuzzParsers {
    static func main() {
        #if FUZZING
        fuzz()
        #else
        replay()
        #endif
    }

    static var targetNames: String { FuzzTarget.allCases.map(\.rawValue).joined(separator: "|") }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("fuzz-parsers: \(message)\n".utf8))
        exit(status)
    }
}

#if FUZZING
/// libFuzzer's entry point for a program with its own `main` (libFuzzer's FuzzerInterface.h).
/// Its arguments and result are plain pointers and integers, passed alike by Swift and C.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The parser FUZZ_TARGET names; libFuzzer's callback cannot capture it, so it is a global.
private var fuzzTarget = FuzzTarget.png

extension FuzzParsers {
    static func fuzz() {
        fuzzTarget = environmentTarget()
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { start, count in
            _ = fuzzTarget.run(start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
            return 0
        })
    }

    /// The target FUZZ_TARGET names. Read with getenv in a function of its own, so that every
    /// string it makes is freed before fuzzing starts: libFuzzer's leak check counts a string
    /// still held by a frame that never returns as a leak.
    @inline(never)
    static func environmentTarget() -> FuzzTarget {
        guard let name = getenv("FUZZ_TARGET"), let target = FuzzTarget(rawValue: String(cString: name)) else {
            fail("FUZZ_TARGET must be one of \(targetNames)", status: 2)
        }
        return target
    }
}
#else
extension FuzzParsers {
    static func replay() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            fail("usage: fuzz-parsers \(targetNames) FILE|FOLDER...", status: 2)
        }
        var (accepted, refused) = (0, 0)
        for file in arguments.dropFirst().flatMap(files(at:)) {
            guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)", status: 1) }
            switch target.run([UInt8](data)) {
            case .accepted:
                accepted += 1
                print("\(file): accepted")
            case .refused(let reason):
                refused += 1
                print("\(file): refused: \(reason)")
            }
        }
        print("\(target.rawValue): \(accepted + refused) inputs, \(accepted) accepted, \(refused) refused")
    }

    /// `path` itself, or the visible files directly inside it when it is a folder, sorted.
    static func files(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { (path as NSString).appendingPathComponent($0) }
    }
}
#endif
