/// A first-in first-out queue on an array: appends at the back, takes from a moving head, and
/// gives the space back once the taken part is half of it. An item taken is moved out of its
/// place, not copied (an event copied is three retains, and three releases later).
struct FIFO<Element> {
    private var items: [Element?] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }
    var first: Element? { isEmpty ? nil : items[head] }

    mutating func append(_ item: Element) { items.append(item) }

    mutating func removeFirst() -> Element? {
        guard head < items.count else { return nil }
        var item: Element?
        swap(&item, &items[head])
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}

/// A binary min-heap.
struct MinHeap<Element: Comparable> {
    private(set) var items: [Element] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var min: Element? { items.first }

    mutating func insert(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeMin() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let smallest = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smaller = parent
            if left < items.count && items[left] < items[smaller] { smaller = left }
            if right < items.count && items[right] < items[smaller] { smaller = right }
            if smaller == parent { break }
            items.swapAt(parent, smaller)
            parent = smaller
        }
        return smallest
    }
}
