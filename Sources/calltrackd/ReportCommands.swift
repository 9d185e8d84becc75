import ArgumentParser
import CallTrackApp
import CallTrackCore

/// `calltrackd report roi`: money per campaign or dealer over a span of days.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reports over the leads, their CRM outcomes and the ad costs.",
        subcommands: [ROI.self])

    struct ROI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "roi",
            abstract: "Cost, calls, leads, won deals, revenue, cost per lead and ROMI per campaign or per dealer, for the calls started in the days given (UTC).",
            discussion: "The same figures as GET /v1/admin/reports/roi and PostgreSQL's roi_campaign_day and roi_dealer_day views summed over the days. Costs come from calltrackd costs import or POST /v1/admin/costs; won deals from the CRM's outcomes.")

        @OptionGroup var options: ConfigOption
        @Option(help: "The first day, YYYY-MM-DD (UTC).") var from: String
        @Option(help: "The last day, YYYY-MM-DD (UTC), included.") var to: String
        @Option(help: "first_touch, last_touch, linear, position_based or time_decay.") var model = "linear"
        @Option(help: "campaign or dealer.") var by = "campaign"
        @Option(help: "The currency amounts count in (default: the costs').") var currency: String?
        @Flag(help: "The JSON of GET /v1/admin/reports/roi.") var json = false

        func run() async throws {
            let config = try await options.load()
            do {
                for line in try await MoneyCommands.roi(config: config, from: from, to: to, model: model, by: by, currency: currency, json: json) {
                    print(line)
                }
            } catch let refused as MoneyCommands.Refused {
                throw ValidationError(refused.description)
            }
        }
    }
}

/// `calltrackd costs import FILE`: ad spend from an ad cabinet's CSV export into the state database.
struct Costs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ad costs per day and campaign, for the ROI report.",
        subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Imports a CSV of date, source, medium, campaign, cost and currency; each row replaces its day and campaign.",
            discussion: "The same as POST /v1/admin/costs. A file with any bad row is refused whole, with every problem's line. The daemon copies the costs to PostgreSQL's ad_cost table.")

        @OptionGroup var options: ConfigOption
        @Argument(help: "The CSV file (UTF-8; comma, semicolon or tab).") var file: String
        @Option(help: "The currency of a file without a currency column, e.g. RUB.") var currency: String?

        func run() async throws {
            let config = try await options.load()
            do {
                for line in try await MoneyCommands.importCosts(config: config, file: file, currency: currency) { print(line) }
            } catch let refused as MoneyCommands.Refused {
                throw ValidationError(refused.description)
            }
        }
    }
}
