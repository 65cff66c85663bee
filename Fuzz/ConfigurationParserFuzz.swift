// libFuzzer target: the auditd.conf parser. Any bytes as the file's text.
//
// A bad file is an error with a line number, never a trap.
// Built by scripts/fuzz/run.sh (make fuzz); not part of the SwiftPM package.
import AuditDaemon

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigurationParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? AuditdConfiguration.parse(text, path: "fuzz/auditd.conf")
    return 0
}
