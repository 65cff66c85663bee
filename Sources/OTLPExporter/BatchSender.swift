import Logging
import SwiftProtobuf

/// The network side: takes batches from the queue, sends each as one export request, and commits
/// it only after a 2xx (or after setting a refused batch aside). Retries what OTLP says may be
/// retried, with doubling backoff or the collector's `Retry-After`, for as long as it takes: a
/// collector that is away for minutes loses nothing.
public final class BatchSender: Sendable {
    let queue: DurableQueue
    let client: ExportClient
    let framing: ExportRequestFraming
    let counters: ExporterCounters
    let wake: AsyncWake
    let shutdown: ShutdownSignal
    let configuration: ExporterConfiguration
    let logger: Logger

    init(queue: DurableQueue, client: ExportClient, framing: ExportRequestFraming, counters: ExporterCounters,
         wake: AsyncWake, shutdown: ShutdownSignal, configuration: ExporterConfiguration, logger: Logger) {
        self.queue = queue
        self.client = client
        self.framing = framing
        self.counters = counters
        self.wake = wake
        self.shutdown = shutdown
        self.configuration = configuration
        self.logger = logger
    }

    /// Sends until shutdown has begun and the queue is empty, or the task is cancelled.
    public func run() async throws {
        while !Task.isCancelled {
            if !queue.hasPending {
                if shutdown.hasBegun { return }
                await wake.wait()
                continue
            }
            if queue.pendingCount < configuration.batchMaxEvents, !shutdown.hasBegun, configuration.batchDelay > .zero {
                // Let a batch fill: one request per few hundred events, not one per event.
                try? await Task.sleep(for: configuration.batchDelay)
            }
            guard let batch = try queue.takeBatch(maxEvents: configuration.batchMaxEvents, maxBytes: configuration.batchMaxBytes) else { continue }
            try await deliver(batch)
        }
    }

    private func deliver(_ batch: DurableQueue.Batch) async throws {
        let body = framing.request(records: batch.payloads)
        var delay = configuration.retryInitialDelay
        var attempt = 0
        while true {
            attempt += 1
            switch await client.send(body) {
            case .accepted(let rejectedRecords, let message):
                try queue.commit()
                counters.update {
                    $0.eventsSent += batch.count
                    $0.batchesSent += 1
                    $0.recordsRejectedByCollector += Int(rejectedRecords)
                }
                if rejectedRecords > 0 {
                    logger.warning("collector accepted the batch but rejected \(rejectedRecords) of its \(batch.count) log records: \(message)")
                }
                if attempt > 1 { logger.info("batch of \(batch.count) events delivered after \(attempt) attempts") }
                return
            case .refused(let status, let reason):
                let path = try queue.setAside(batch, reason: "\(configuration.endpoint) refused this batch: \(reason)",
                                              text: Self.text(of: batch))
                counters.update { $0.batchesRejected += 1; $0.eventsRejected += batch.count }
                logger.error("\(configuration.endpoint) refused a batch of \(batch.count) events (HTTP \(status)); kept in \(path), not retried: \(reason)")
                return
            case .retry(let after, let reason):
                counters.update { $0.retries += 1 }
                // Retry-After is honoured up to the cap, but never below the first delay: a collector
                // answering `Retry-After: 0` to every request must not get a tight loop of them.
                let wait = min(max(after ?? delay, configuration.retryInitialDelay), configuration.retryMaxDelay)
                if attempt == 1 || attempt % 10 == 0 {
                    logger.warning("sending \(batch.count) events to \(configuration.endpoint) failed (\(reason)); attempt \(attempt), next in \(wait)")
                }
                delay = min(delay * 2, configuration.retryMaxDelay)
                try await Task.sleep(for: wait)
            }
        }
    }

    /// A batch as `rejected/` shows it: each event's lines (its LogRecord's body, decoded with the
    /// generated code), then an empty line.
    static func text(of batch: DurableQueue.Batch) -> String {
        var text = ""
        for payload in batch.payloads {
            let record = try? OTLPLogRecord(serializedBytes: Array(payload))
            text += (record?.body.stringValue ?? "(a queued record that does not decode)") + "\n\n"
        }
        return text
    }
}
