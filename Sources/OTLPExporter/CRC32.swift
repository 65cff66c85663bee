import CZlib

/// CRC-32 (IEEE 802.3) of a queue frame's payload: a torn or overwritten frame found after a crash
/// is cut off instead of being sent as an event. zlib's `crc32`: it runs over every byte the plugin
/// queues, and a table-driven loop in Swift took 15% of the plugin's CPU at full rate (`perf`).
enum CRC32 {
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt = 0
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return 0 }
        var done = 0
        // zlib takes a 32-bit length (uInt).
        while done < bytes.count {
            let count = min(bytes.count - done, Int(UInt32.max))
            crc = crc32(crc, base + done, uInt(count))
            done += count
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}
