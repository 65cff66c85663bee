/// The metrics textfile for node_exporter (`metrics_textfile` in swift-auditd.conf).
extension AuditDaemon {
    /// Has the loop rewrite the textfile every `metrics_interval` seconds, between batches, when
    /// swift-auditd.conf names one; the first is written at once.
    func startMetricsTextfile() -> MetricsTextfile? {
        guard let path = options.settings.metricsTextfile else { return nil }
        let textfile = MetricsTextfile(path: path)
        logger.notice("writing metrics for node_exporter to \(path) every \(options.settings.metricsInterval) s")
        loop.periodic = (Int64(options.settings.metricsInterval) * 1_000_000_000, { [unowned self] in
            // What waits is written first, through the loop, so the write latency counts it.
            if loop.writer.hasPendingRecords { loop.write() }
            refreshState(askKernel: true)
            if let error = textfile.write(state) {
                logger.warning("cannot write the metrics textfile; trying again in \(options.settings.metricsInterval) s",
                               metadata: ["error": "\(error)", "failures": "\(textfile.failures)"])
            }
        })
        return textfile
    }
}
