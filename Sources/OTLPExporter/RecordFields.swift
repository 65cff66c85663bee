/// The `name=value` fields of a record's body, as auditd writes them: values bare, in double
/// quotes, or (user-space messages) a `msg='...'` whose inside holds more fields, which are read
/// too. Good enough to pick out the attributes; not an interpreter.
struct RecordFields {
    private(set) var values: [(name: Substring, value: Substring)] = []

    init(_ body: Substring) {
        scan(body)
    }

    func first(_ name: String) -> Substring? {
        values.first(where: { $0.name == name })?.value
    }

    private mutating func scan(_ text: Substring) {
        var index = text.startIndex
        while index < text.endIndex {
            while index < text.endIndex, text[index] == " " { index = text.index(after: index) }
            guard index < text.endIndex else { return }
            let nameStart = index
            while index < text.endIndex, text[index] != "=", text[index] != " " { index = text.index(after: index) }
            guard index < text.endIndex, text[index] == "=" else { continue }
            let name = text[nameStart..<index]
            index = text.index(after: index)
            guard index < text.endIndex else { values.append((name, text[index..<index])); return }
            let quote = text[index]
            if quote == "\"" || quote == "'" {
                let valueStart = text.index(after: index)
                let valueEnd = text[valueStart...].firstIndex(of: quote) ?? text.endIndex
                let value = text[valueStart..<valueEnd]
                if quote == "'" { scan(value) } else { values.append((name, value)) }
                index = valueEnd < text.endIndex ? text.index(after: valueEnd) : valueEnd
            } else {
                let valueEnd = text[index...].firstIndex(of: " ") ?? text.endIndex
                values.append((name, text[index..<valueEnd]))
                index = valueEnd
            }
        }
    }
}
