import Foundation

/// A self-contained SVG line chart: axes with round-number ticks, one polyline per series, a
/// legend. Used for loss curves and report charts; any browser or image viewer shows it.
public struct LineChart {
    public struct Series {
        public let name: String
        public let points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) { (self.name, self.points) = (name, points) }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Plot y on a log10 scale (losses span decades).
    public var logY = false
    /// Plot x on a log10 scale (step counts from 10 to 1000).
    public var logX = false
    public var width = 720
    public var height = 420

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logX: Bool = false, logY: Bool = false) {
        (self.title, self.xLabel, self.yLabel, self.series) = (title, xLabel, yLabel, series)
        (self.logX, self.logY) = (logX, logY)
    }

    /// Twelve distinguishable colours (Tableau's ten, then two darker ones), so that a report's
    /// sampler families keep apart.
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                         "#bcbd22", "#7f7f7f", "#393b79", "#637939"]

    public func svg() -> String {
        // Several series get a legend to the right of the plot, one line each, clear of the points.
        let legendWidth = series.count > 1 ? Double(series.map(\.name.count).max() ?? 0) * 7 + 44 : 0
        let margin = (left: 70.0, right: 20.0 + legendWidth, top: 40.0, bottom: 50.0)
        let plotWidth = Double(width) - margin.left - margin.right
        let plotHeight = Double(height) - margin.top - margin.bottom
        let transformX: (Double) -> Double = logX ? { log10(max($0, 1e-12)) } : { $0 }
        let transform: (Double) -> Double = logY ? { log10(max($0, 1e-12)) } : { $0 }
        let all = series.flatMap(\.points).filter(plotted)
        let xs = all.map { transformX($0.x) }, ys = all.map { transform($0.y) }
        var (xMin, xMax) = (xs.min() ?? 0, xs.max() ?? 1)
        var (yMin, yMax) = (ys.min() ?? 0, ys.max() ?? 1)
        if xMax <= xMin { (xMin, xMax) = (xMin - 0.5, xMax + 0.5) }
        if yMax <= yMin { (yMin, yMax) = (yMin - 0.5, yMax + 0.5) }
        // 4% of room on each side, so that points at the extremes stay off the axes
        let (xPad, yPad) = ((xMax - xMin) * 0.04, (yMax - yMin) * 0.04)
        (xMin, xMax, yMin, yMax) = (xMin - xPad, xMax + xPad, yMin - yPad, yMax + yPad)
        func px(_ x: Double) -> Double { margin.left + (transformX(x) - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { margin.top + (1 - (transform(y) - yMin) / (yMax - yMin)) * plotHeight }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(xmlEscaped(title))</text>

            """
        // Axes and ticks.
        svg += line(margin.left, margin.top + plotHeight, margin.left + plotWidth, margin.top + plotHeight, "#333")
        svg += line(margin.left, margin.top, margin.left, margin.top + plotHeight, "#333")
        for t in Self.ticks(xMin, xMax, log: logX) {
            let value = logX ? pow(10, t) : t
            svg += line(px(value), margin.top + plotHeight, px(value), margin.top + plotHeight + 5, "#333")
            svg += "<text x=\"\(fmt(px(value)))\" y=\"\(fmt(margin.top + plotHeight + 18))\" text-anchor=\"middle\">\(Self.label(value))</text>\n"
        }
        for t in Self.ticks(yMin, yMax, log: logY) {
            let value = logY ? pow(10, t) : t
            let y = margin.top + (1 - (t - yMin) / (yMax - yMin)) * plotHeight
            svg += line(margin.left - 5, y, margin.left + plotWidth, y, "#ddd")
            svg += "<text x=\"\(fmt(margin.left - 8))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(Self.label(value))</text>\n"
        }
        svg += "<text x=\"\(fmt(margin.left + plotWidth / 2))\" y=\"\(height - 12)\" text-anchor=\"middle\">\(xmlEscaped(xLabel))</text>\n"
        svg += "<text transform=\"translate(16 \(fmt(margin.top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(xmlEscaped(yLabel))</text>\n"
        // Series and legend.
        for (i, s) in series.enumerated() {
            let color = Self.colors[i % Self.colors.count]
            let points = s.points.filter(plotted)
                .map { "\(fmt(px($0.x))),\(fmt(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points)\"/>\n"
            if s.points.count <= 40 {
                for p in s.points where plotted(p) {
                    svg += "<circle cx=\"\(fmt(px(p.x)))\" cy=\"\(fmt(py(p.y)))\" r=\"3\" fill=\"\(color)\"/>\n"
                }
            }
            guard series.count > 1 else { continue }
            let ly = margin.top + 14 + Double(i) * 16, lx = margin.left + plotWidth + 16
            svg += line(lx, ly - 4, lx + 20, ly - 4, color, width: 3)
            svg += "<text x=\"\(fmt(lx + 26))\" y=\"\(fmt(ly))\">\(xmlEscaped(s.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// Whether a point can be drawn: finite, and positive on a log axis.
    private func plotted(_ point: (x: Double, y: Double)) -> Bool {
        point.x.isFinite && point.y.isFinite && (!logX || point.x > 0) && (!logY || point.y > 0)
    }

    /// Tick positions covering lower...upper. On a log axis the bounds are log10 values and the
    /// ticks are powers of ten where three or more fit, else 1, 2 and 5 times powers of ten where
    /// three or more fit, else round numbers of the values themselves.
    static func ticks(_ lower: Double, _ upper: Double, log: Bool) -> [Double] {
        guard log else { return ticks(lower, upper) }
        guard lower.isFinite, upper.isFinite, upper - lower < 600 else { return [] }
        func inside(_ t: Double) -> Bool { t >= lower - 1e-9 && t <= upper + 1e-9 }
        let decades = Int(floor(lower))...Int(ceil(upper))
        let powers = decades.map(Double.init).filter(inside)
        if powers.count >= 3 { return powers }
        let steps = decades.flatMap { d in [1.0, 2, 5].map { log10($0) + Double(d) } }.filter(inside)
        if steps.count >= 3 { return steps }
        return ticks(pow(10, lower), pow(10, upper)).filter { $0 > 0 }.map(log10).filter(inside)
    }

    /// About five round-number ticks covering lower...upper; none for bounds that are not
    /// finite, and the bounds themselves for a range too narrow to step through (a step below
    /// the values' rounding would never move).
    static func ticks(_ lower: Double, _ upper: Double) -> [Double] {
        let raw = (upper - lower) / 5
        guard lower.isFinite, upper.isFinite, raw > 0 else { return lower.isFinite ? [lower] : [] }
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        let (first, last) = (ceil(lower / step), floor(upper / step + 1e-9))
        guard last - first <= 20, (first + 1) * step > first * step else { return [lower, upper] }
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.1e", value) }
        if value == value.rounded() { return String(Int(value)) }
        return String(format: magnitude < 1 ? "%.3g" : "%.4g", value)
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ color: String, width: Double = 1) -> String {
        "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(color)\" stroke-width=\"\(width)\"/>\n"
    }

    private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// Text made safe inside XML and HTML elements and attribute values (SVG charts, HTML reports).
public func xmlEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
