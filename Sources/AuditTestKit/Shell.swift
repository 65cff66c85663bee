import Foundation

/// Runs a command to completion and returns its exit status and output (stdout and stderr).
/// `input`, when given, becomes the command's standard input (the caller keeps it open).
@discardableResult
public func shell(_ executable: String, _ arguments: [String], input: Int32? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let input { process.standardInput = FileHandle(fileDescriptor: input, closeOnDealloc: false) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The `swift-auditd` executable built beside the running test bundle.
public func builtDaemonPath() -> String {
    let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: bundle).deletingLastPathComponent()
    // On Linux the test runner is `NAMEPackageTests.xctest` in the build directory.
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("swift-auditd").path),
          directory.path != "/" {
        directory.deleteLastPathComponent()
    }
    return directory.appendingPathComponent("swift-auditd").path
}
