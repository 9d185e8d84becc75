import Foundation

// Built with `scripts/fuzz` (`--sanitize fuzzer -DFUZZING`), libFuzzer owns `main` and calls this for every input;
// CALLTRACKD_FUZZ_TARGET names the parser (ami or agi). Built plainly, the program replays saved inputs instead.
#if FUZZING
private let target = ProcessInfo.processInfo.environment["CALLTRACKD_FUZZ_TARGET"].flatMap(FuzzTarget.init(rawValue:)) ?? .ami

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    target.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
/// `calltrackd-fuzz <ami|agi> FILE_OR_FOLDER…`: runs every saved input through the target (a crash or a broken
/// promise stops it); prints how many ran.
@main
struct ReplayInputs {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            FileHandle.standardError.write(Data("usage: calltrackd-fuzz <ami|agi> FILE_OR_FOLDER…\n".utf8))
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("no such file or folder: \(path)\n".utf8))
                exit(2)
            }
            let files = isFolder.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                target.run(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
                count += 1
            }
        }
        print("\(target.rawValue): \(count) inputs replayed, no finding")
    }
}
#endif
