import CallTrackCore

/// A dealer as the admin API reads and writes it (`PUT /v1/admin/dealers/{dealer}`), in the config file's words:
///
/// ```json
/// {"name": "Moscow North", "regions": ["+7 495"], "sites": ["acme"], "priority": 1, "weight": 3, "capacity": 4,
///  "time_zone": "Europe/Moscow", "hours": {"weekdays": "09:00-18:00", "sat": "10:00-14:00"},
///  "holidays": ["2026-12-31"], "targets": ["PJSIP/dealer-12", "Local/200@dealers"], "enabled": true}
/// ```
/// `weight` is a whole number or `"auto"` (from the measured answer rate). The app checks it (`resolve`) as it
/// checks the config file, and stores it as sent.
public struct DealerDefinition: Codable, Sendable, Hashable {
    public var id: String
    public var name: String?
    public var regions: [String]?
    public var sites: [String]?
    public var callers: [String]?
    public var priority: Int?
    public var weight: Weight?
    public var capacity: Int?
    public var time_zone: String?
    /// `mon`…`sun`, `weekdays`, `weekend`: `"09:00-18:00"`, `"09:00-13:00, 14:00-18:00"` or `closed`.
    public var hours: [String: String]?
    public var holidays: [String]?
    public var targets: [String]
    public var enabled: Bool?

    public init(id: String, name: String? = nil, regions: [String]? = nil, sites: [String]? = nil, callers: [String]? = nil,
                priority: Int? = nil, weight: Weight? = nil, capacity: Int? = nil, time_zone: String? = nil, hours: [String: String]? = nil,
                holidays: [String]? = nil, targets: [String], enabled: Bool? = nil) {
        (self.id, self.name, self.regions, self.sites, self.callers) = (id, name, regions, sites, callers)
        (self.priority, self.weight, self.capacity, self.time_zone, self.hours) = (priority, weight, capacity, time_zone, hours)
        (self.holidays, self.targets, self.enabled) = (holidays, targets, enabled)
    }

    enum CodingKeys: String, CodingKey {
        case id, name, regions, sites, callers, priority, weight, capacity, time_zone, hours, holidays, targets, enabled
    }

    /// The body of a `PUT` names no id (the path does): it is optional here and set from the path.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        name = try c.decodeIfPresent(String.self, forKey: .name)
        regions = try c.decodeIfPresent([String].self, forKey: .regions)
        sites = try c.decodeIfPresent([String].self, forKey: .sites)
        callers = try c.decodeIfPresent([String].self, forKey: .callers)
        priority = try c.decodeIfPresent(Int.self, forKey: .priority)
        weight = try c.decodeIfPresent(Weight.self, forKey: .weight)
        capacity = try c.decodeIfPresent(Int.self, forKey: .capacity)
        time_zone = try c.decodeIfPresent(String.self, forKey: .time_zone)
        hours = try c.decodeIfPresent([String: String].self, forKey: .hours)
        holidays = try c.decodeIfPresent([String].self, forKey: .holidays)
        targets = try c.decode([String].self, forKey: .targets)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled)
    }

    /// A whole number, or `"auto"`.
    public enum Weight: Codable, Sendable, Hashable {
        case fixed(Int)
        case auto

        public init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let number = try? value.decode(Int.self) {
                self = .fixed(number)
            } else if try value.decode(String.self) == "auto" {
                self = .auto
            } else {
                throw DecodingError.dataCorruptedError(in: value, debugDescription: "weight is a whole number or \"auto\"")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var value = encoder.singleValueContainer()
            switch self {
            case .fixed(let number): try value.encode(number)
            case .auto: try value.encode("auto")
            }
        }
    }
}

/// A dealer as `GET /v1/admin/dealers` lists it: its definition, where it comes from, and how it is routed now.
public struct DealerEntry: Encodable, Sendable {
    public var dealer: DealerDefinition
    /// `config` (the file) or `admin` (changed through the admin API, which outranks the file).
    public var origin: String
    public var weight_in_use: Int
    public var busy_lines: Int

    public init(dealer: DealerDefinition, origin: String, weight_in_use: Int, busy_lines: Int) {
        self.dealer = dealer
        self.origin = origin
        self.weight_in_use = weight_in_use
        self.busy_lines = busy_lines
    }
}

/// The dealers routing uses, changed without a restart. The app checks a definition as it checks the config file
/// (a bad field is an `APIError` 400 naming it), applies it to routing, and stores it (a store that refuses is a
/// 503 and changes nothing).
public protocol DealerDirectory: Sendable {
    func dealers() async -> [DealerEntry]
    /// Creates or replaces the dealer; returns it as listed.
    func put(_ definition: DealerDefinition) async throws -> DealerEntry
    /// Retires the dealer: routing stops choosing it, and the config file does not bring it back. False: unknown.
    func retire(_ id: String) async throws -> Bool
}
