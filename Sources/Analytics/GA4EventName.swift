/// GA4's rules for an event name (Measurement Protocol reference, "Reserved names" and the collection limits):
/// 1 to 40 characters, letters, digits and underscores, starting with a letter; not a name or prefix GA4 reserves.
///
/// ```swift
/// GA4EventName.problem("calltrackd_call")  // nil
/// GA4EventName.problem("1st_call")         // "… must start with a letter …"
/// GA4EventName.problem("session_start")    // "… is reserved by GA4 …"
/// ```
public enum GA4EventName {
    public static let maxLength = 40

    /// Names GA4 keeps for itself: an event sent with one is dropped.
    public static let reserved: Set<String> = [
        "ad_activeview", "ad_click", "ad_exposure", "ad_impression", "ad_query", "ad_reward", "adunit_exposure",
        "app_background", "app_clear_data", "app_exception", "app_remove", "app_store_refund",
        "app_store_subscription_cancel", "app_store_subscription_convert", "app_store_subscription_renew", "app_update",
        "app_upgrade", "dynamic_link_app_open", "dynamic_link_app_update", "dynamic_link_first_open", "error",
        "firebase_campaign", "firebase_in_app_message_action", "firebase_in_app_message_dismiss",
        "firebase_in_app_message_impression", "first_open", "first_visit", "in_app_purchase", "notification_dismiss",
        "notification_foreground", "notification_open", "notification_receive", "os_update", "session_start",
        "session_start_with_rollout", "user_engagement",
    ]
    public static let reservedPrefixes = ["_", "ga_", "google_", "firebase_"]

    /// Why `name` cannot be a GA4 event name, or nil when it can.
    public static func problem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return "empty: write an event name, e.g. calltrackd_call" }
        guard bytes.count <= maxLength else { return "'\(name)' is longer than GA4's \(maxLength) characters: shorten it" }
        guard isLetter(first) else { return "'\(name)' must start with a letter (GA4 event names: letters, digits, '_')" }
        guard bytes.allSatisfy({ isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") }) else {
            return "'\(name)' may only hold letters, digits and '_' (GA4 event names)"
        }
        let lower = name.lowercased()
        if reserved.contains(lower) { return "'\(name)' is reserved by GA4, which drops such events: choose another name" }
        if let prefix = reservedPrefixes.first(where: { lower.hasPrefix($0) }) {
            return "'\(name)' starts with '\(prefix)', which GA4 reserves: choose another name"
        }
        return nil
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) }
}
