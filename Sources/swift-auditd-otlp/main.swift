import Foundation
import Logging
import OTLPExporter

// swift-auditd-otlp CONFIG: the audisp plugin that exports audit events over OTLP/HTTP. auditd
// starts it with the `args` of its plugins.d file (at most two arguments in 3.0.9); this one
// takes one, its own configuration file, and reads auditd's string format on standard input.
// A parent may start us with signals blocked (the mask is inherited across exec); SIGTERM must
// reach the handler Exporter installs. Done first, on the main thread, before any other starts.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGHUP)
pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = ProcessInfo.processInfo.environment["SWIFT_AUDITD_OTLP_DEBUG"] == nil ? .info : .debug
    return handler
}
let logger = Logger(label: "swift-auditd-otlp")
let arguments = CommandLine.arguments
guard arguments.count == 2, !arguments[1].hasPrefix("-") else {
    FileHandle.standardError.write(Data("usage: swift-auditd-otlp CONFIG_FILE (e.g. /etc/audit/swift-auditd-otlp.conf)\n".utf8))
    exit(arguments.count == 2 && (arguments[1] == "-h" || arguments[1] == "--help") ? 0 : 1)
}
let configuration: ExporterConfiguration
do {
    configuration = try ExporterConfigurationParser(path: arguments[1]).parse(fileAt: arguments[1])
} catch {
    FileHandle.standardError.write(Data("swift-auditd-otlp: \(error)\n".utf8))
    exit(ExporterConfigurationError.exitStatus)
}
exit(await Exporter(configuration: configuration, logger: logger).run())
