// Nothing: SwiftPM builds a C target from at least one source file; CZlib only exposes <zlib.h>.
