@testable import AuditDaemon
import AuditProtocol
import Testing

/// The record loop's own counters: by type in fixed slots, the write latency in fixed buckets
/// whose bounds are inclusive, as Prometheus' `le` says.
@Suite struct RecordMetricsTests {
    @Test func countsByTypeWithTypesFrom3000UpAsOther() {
        var metrics = RecordMetrics()
        for _ in 0..<3 { metrics.received(.syscall) }
        metrics.received(AuditMessageType(1302))
        metrics.received(AuditMessageType(3000))
        metrics.received(AuditMessageType(65535))
        #expect(metrics.receivedByTypeName() == ["SYSCALL": 3, "PATH": 1, "other": 2])
    }

    @Test func aLatencyOnABoundGoesInThatBucketAndAboveTheLastInInf() {
        var histogram = WriteLatencyHistogram()
        histogram.observe(nanoseconds: 100_000)  // exactly 100 µs: le="0.0001"
        histogram.observe(nanoseconds: 100_001)  // le="0.00025"
        histogram.observe(nanoseconds: -5)  // a clock that stepped back counts as 0
        histogram.observe(nanoseconds: 20_000_000_000)  // +Inf
        #expect(histogram.counts[0] == 2)
        #expect(histogram.counts[1] == 1)
        #expect(histogram.counts[WriteLatencyHistogram.boundsNanoseconds.count] == 1)
        #expect(histogram.count == 4)
        #expect(histogram.sumNanoseconds == 20_000_200_001)
    }

    @Test func secondsAreWrittenWithoutTrailingZeros() {
        #expect(PrometheusExposition.seconds(100_000) == "0.0001")
        #expect(PrometheusExposition.seconds(2_500_000_000) == "2.5")
        #expect(PrometheusExposition.seconds(10_000_000_000) == "10")
        #expect(PrometheusExposition.seconds(0) == "0")
    }
}
