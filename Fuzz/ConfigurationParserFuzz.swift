// libFuzzer target: the auditd.conf parser (auditd's load_config rules: keywords, values, options,
// the checks on numbers, paths, actions and their combinations). Any bytes as the file.
//
// A bad file is an error with a line number, never a trap; a good one parses the same way twice.
// Built by scripts/fuzz/run.sh (make fuzz); not part of the SwiftPM package.
import AuditDaemon

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigurationParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch Result(catching: { () throws(AuditDaemonError) in try AuditdConfiguration.parse(bytes: bytes, path: "fuzz/auditd.conf") }) {
    case let .success((configuration, _)):
        let again = try? AuditdConfiguration.parse(bytes: bytes, path: "fuzz/auditd.conf")
        precondition(again?.0 == configuration, "the same file parsed two ways")
    case .failure:
        break
    }
    return 0
}
