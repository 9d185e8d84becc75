import CallTrackCore
import Logging

/// Which definition of a site applies at start: a site changed through the admin API keeps that change
/// (ops added numbers without a restart and must not lose them to an old file); otherwise the config file wins.
enum SiteOrigins {
    static func settle(configured: [Site], stored: [StoredSite], logger: Logger) -> [Site] {
        var result: [String: Site] = [:]
        for site in configured { result[site.id] = site }
        for entry in stored where entry.fromAdmin {
            if result[entry.site.id] != nil {
                logger.notice(
                    entry.retired ? "site retired through the admin API stays retired" : "site definition from the admin API outranks the config file",
                    metadata: ["site": "\(entry.site.id)"])
            }
            result[entry.site.id] = entry.retired ? nil : entry.site
        }
        return result.values.sorted { $0.id < $1.id }
    }
}
