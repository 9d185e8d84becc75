extension Unicode.Scalar {
    /// A scalar that does something to a terminal or a line-based reader instead of showing a glyph: the C0
    /// controls (newline, escape), DEL, the C1 controls (U+0085 next line, U+009B CSI: an escape sequence on
    /// its own), and the Unicode line and paragraph separators.
    ///
    /// What no identifier may hold, and what a text log escapes.
    public var isControlOrLineBreak: Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }
}
