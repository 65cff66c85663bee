#if canImport(Glibc)
import Glibc
#endif

/// `--since TIME`: the first second of the events to print.
///
/// Accepts `now`, `recent` (ten minutes ago), `today`, `yesterday`, `this-week` (ausearch's
/// words), a Unix time (`@1700000000` or just the number), and a local date and time
/// `YYYY-MM-DD[ HH:MM[:SS]]` (or with `T`).
public enum SinceTime {
    public static func parse(_ text: String, now: Int64 = Int64(time(nil))) -> Int64? {
        let word = text.lowercased()
        switch word {
        case "now": return now
        case "recent": return now - 600
        case "today": return startOfDay(now, daysBack: 0)
        case "yesterday": return startOfDay(now, daysBack: 1)
        case "this-week":
            var seconds = time_t(now)
            var parts = tm()
            localtime_r(&seconds, &parts)
            return startOfDay(now, daysBack: Int(parts.tm_wday))
        default: break
        }
        let digits = word.hasPrefix("@") ? String(word.dropFirst()) : word
        if let seconds = Int64(digits), seconds >= 0 { return seconds }
        return dateTime(text)
    }

    static func startOfDay(_ now: Int64, daysBack: Int) -> Int64 {
        var seconds = time_t(now)
        var parts = tm()
        localtime_r(&seconds, &parts)
        parts.tm_mday -= Int32(daysBack)
        parts.tm_hour = 0
        parts.tm_min = 0
        parts.tm_sec = 0
        parts.tm_isdst = -1
        return Int64(mktime(&parts))
    }

    static func dateTime(_ text: String) -> Int64? {
        let pieces = text.split(whereSeparator: { $0 == " " || $0 == "T" })
        guard pieces.count == 1 || pieces.count == 2 else { return nil }
        let date = pieces[0].split(separator: "-").compactMap { Int32($0) }
        guard date.count == 3 else { return nil }
        var time: [Int32] = [0, 0, 0]
        if pieces.count == 2 {
            let given = pieces[1].split(separator: ":").compactMap { Int32($0) }
            guard given.count == 2 || given.count == 3 else { return nil }
            for (index, value) in given.enumerated() { time[index] = value }
        }
        guard (1...12).contains(date[1]), (1...31).contains(date[2]), (0...23).contains(time[0]),
              (0...59).contains(time[1]), (0...60).contains(time[2]) else { return nil }
        var parts = tm()
        parts.tm_year = date[0] - 1900
        parts.tm_mon = date[1] - 1
        parts.tm_mday = date[2]
        parts.tm_hour = time[0]
        parts.tm_min = time[1]
        parts.tm_sec = time[2]
        parts.tm_isdst = -1
        let seconds = mktime(&parts)
        return seconds == -1 ? nil : Int64(seconds)
    }
}
