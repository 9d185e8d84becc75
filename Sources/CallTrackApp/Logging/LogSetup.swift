import Logging
import Metrics
import Prometheus

/// Process-wide bootstrap of logs and metrics: called once, by the executable only.
public enum ProcessSetup {
    public static func bootstrap(format: AppConfig.LogFormat, level: String) -> (Logger, PrometheusCollectorRegistry) {
        let level = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = switch format {
            case .json: JSONLogHandler(label: label)
            case .text: TextLogHandler(label: label)
            }
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return (Logger(label: "calltrackd"), registry)
    }
}
