import Foundation

/// Runs a program found on the PATH to completion; `input` is written to its standard input, `directory` is
/// where it runs. Returns its exit status and its standard output and error together.
public func runProgram(_ arguments: [String], input: String? = nil, in directory: URL? = nil) async throws -> (status: Int32, output: String) {
    let (status, output) = try await Subprocess.run(
        "/usr/bin/env", arguments, directory: directory?.path, input: input.map { Data($0.utf8) })
    return (status, String(decoding: output, as: UTF8.self))
}
