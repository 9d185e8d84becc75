/// GA4's session id as the snippet reads it from the `_ga_<container-id>` cookie: the session's start in Unix
/// seconds, digits only.
///
/// ```
/// _ga_SM37QL5J42=GS1.1.1747132561.3.1.1747132655.0.0.0     → 1747132561  (third dot-separated field)
/// _ga_SM37QL5J42=GS2.1.s1747132561$o3$g1$t1747132655$j0    → 1747132561  (the `s` item, any position)
/// ```
/// The snippet parses the cookie and sends only the number; the API keeps it only if `accept` does, so a bad value
/// never becomes an error for the visitor (it is dropped and counted).
public enum GASessionID {
    /// `text` if it is a session id: 1 to 20 ASCII digits, not all zeros; else nil.
    public static func accept(_ text: String) -> String? {
        let bytes = text.utf8
        guard (1...20).contains(bytes.count), bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), bytes.contains(where: { $0 != 0x30 }) else {
            return nil
        }
        return text
    }
}
