import CallTrackCore
import Foundation

/// Small charts drawn on the server as SVG: no script, nothing from a CDN. Each is a `viewBox`ed drawing that
/// scales to the page's width (phones included).
enum SVGChart {
    struct Series {
        var name: String
        var color: String
        var values: [Double]
        /// Drawn as a line; otherwise as bars (stacked with the other bar series).
        var line: Bool
    }

    static let width = 720.0, height = 220.0, left = 44.0, bottom = 24.0, top = 10.0, right = 10.0

    /// A time chart of `series` over `times` (one value per time), with a legend; `title` is its accessible name.
    static func draw(title: String, times: [Timestamp], series: [Series]) -> String {
        let plotW = width - left - right, plotH = height - top - bottom
        let stackedMax = times.indices.map { i in series.filter { !$0.line }.reduce(0) { $0 + ($1.values.indices.contains(i) ? $1.values[i] : 0) } }.max() ?? 0
        let lineMax = series.filter(\.line).flatMap(\.values).max() ?? 0
        let top = niceCeiling(max(stackedMax, lineMax, 1))
        let n = max(times.count, 1)
        func x(_ i: Int) -> Double { left + plotW * (Double(i) + 0.5) / Double(n) }
        func y(_ v: Double) -> Double { Self.top + plotH * (1 - v / top) }
        var svg = ##"<svg class="chart" viewBox="0 0 \##(Int(width)) \##(Int(height))" role="img" aria-label="\##(escape(title))" xmlns="http://www.w3.org/2000/svg">"##
        svg += "<title>\(escape(title))</title>"
        for step in 0...4 {
            let v = top * Double(step) / 4
            svg += ##"<line x1="\##(left)" x2="\##(width - right)" y1="\##(fmt(y(v)))" y2="\##(fmt(y(v)))" stroke="#ddd"/>"##
            svg += ##"<text x="\##(left - 4)" y="\##(fmt(y(v) + 4))" text-anchor="end" font-size="11" fill="#555">\##(label(v))</text>"##
        }
        if let first = times.first, let last = times.last {
            svg += ##"<text x="\##(left)" y="\##(height - 6)" font-size="11" fill="#555">\##(first.iso8601.prefix(16).replacingOccurrences(of: "T", with: " "))</text>"##
            svg += ##"<text x="\##(width - right)" y="\##(height - 6)" text-anchor="end" font-size="11" fill="#555">\##(last.iso8601.prefix(16).replacingOccurrences(of: "T", with: " "))</text>"##
        }
        let barW = max(plotW / Double(n) * 0.9, 0.5)
        var base = [Double](repeating: 0, count: times.count)
        for s in series where !s.line {
            for (i, v) in s.values.enumerated() where v > 0 && i < base.count {
                svg += ##"<rect x="\##(fmt(x(i) - barW / 2))" y="\##(fmt(y(base[i] + v)))" width="\##(fmt(barW))" height="\##(fmt(y(base[i]) - y(base[i] + v)))" fill="\##(s.color)"/>"##
                base[i] += v
            }
        }
        for s in series where s.line && !s.values.isEmpty {
            let points = s.values.enumerated().map { "\(fmt(x($0.offset))),\(fmt(y($0.element)))" }.joined(separator: " ")
            svg += ##"<polyline points="\##(points)" fill="none" stroke="\##(s.color)" stroke-width="2"/>"##
        }
        var legendX = left
        for s in series {
            svg += ##"<rect x="\##(fmt(legendX))" y="\##(height - 18)" width="10" height="10" fill="\##(s.color)" transform="translate(120 0)"/>"##
            svg += ##"<text x="\##(fmt(legendX + 134))" y="\##(height - 9)" font-size="11" fill="#333">\##(escape(s.name))</text>"##
            legendX += 24 + Double(s.name.count) * 6.5
        }
        return svg + "</svg>"
    }

    static func niceCeiling(_ v: Double) -> Double {
        var step = 1.0
        while step * 10 < v { step *= 10 }
        for factor in [1.0, 2, 2.5, 5, 10] where step * factor >= v { return step * factor }
        return step * 10
    }

    static func label(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.2g", v) }
    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
