/// A SOCKADDR record's `saddr` (the kernel's `struct sockaddr`, hex-encoded) read into JSON.
///
/// Families read: local (unix, with abstract names as `@name`), inet, inet6, netlink; any other
/// gives its family number. Short addresses say so rather than read past their end.
enum SocketAddress {
    static func appendJSON(_ raw: [UInt8], to output: OutputBuffer) {
        guard raw.count >= 2 else {
            output.append("{\"family\":null,\"error\":\"too short\"}")
            return
        }
        let family = Int(raw[0]) | Int(raw[1]) << 8
        output.append("{\"family\":")
        func port() -> Int { Int(raw[2]) << 8 | Int(raw[3]) }
        switch family {
        case 1:
            output.append("\"local\"")
            var path = Array(raw[2...])
            if path.first == 0 {
                path = [UInt8(ascii: "@")] + path.dropFirst()  // an abstract name, as ss(8) writes it
            } else if let end = path.firstIndex(of: 0) {
                path = Array(path[..<end])
            }
            output.append(",\"path\":")
            JSONText.appendString(path, to: output)
        case 2 where raw.count >= 8:
            output.append("\"inet\",\"address\":\"")
            for index in 4..<8 {
                if index > 4 { output.append(UInt8(ascii: ".")) }
                JSONText.appendNumber(raw[index], to: output)
            }
            output.append("\",\"port\":")
            JSONText.appendNumber(port(), to: output)
        case 10 where raw.count >= 24:
            output.append("\"inet6\",\"address\":\"")
            output.append(Array(ipv6Text(Array(raw[8..<24])).utf8))
            output.append("\",\"port\":")
            JSONText.appendNumber(port(), to: output)
        case 16 where raw.count >= 12:
            let pid = Int(raw[4]) | Int(raw[5]) << 8 | Int(raw[6]) << 16 | Int(raw[7]) << 24
            let groups = Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24
            output.append("\"netlink\",\"pid\":")
            JSONText.appendNumber(pid, to: output)
            output.append(",\"groups\":")
            JSONText.appendNumber(groups, to: output)
        case 2, 10, 16:
            output.append(family == 2 ? "\"inet\"" : family == 10 ? "\"inet6\"" : "\"netlink\"")
            output.append(",\"error\":\"too short\"")
        default:
            JSONText.appendNumber(family, to: output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// RFC 5952 text: lower-case groups, the longest run of two or more zero groups as `::`.
    static func ipv6Text(_ bytes: [UInt8]) -> String {
        let groups = (0..<8).map { Int(bytes[2 * $0]) << 8 | Int(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, start = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if start < 0 { start = index }
            } else if start >= 0 {
                if index - start > bestLength && index - start >= 2 { bestStart = start; bestLength = index - start }
                start = -1
            }
        }
        if bestStart >= 0 {
            let head = groups[..<bestStart].map { String($0, radix: 16) }.joined(separator: ":")
            let tail = groups[(bestStart + bestLength)...].map { String($0, radix: 16) }.joined(separator: ":")
            return head + "::" + tail
        }
        return groups.map { String($0, radix: 16) }.joined(separator: ":")
    }
}
