import Foundation
import Imaging
import NN

/// The loss history of a run: loss.csv (step, loss, learning rate, images/s) and loss.svg,
/// rewritten at each checkpoint so that they always agree with the saved state.
public struct LossLog {
    private struct Row { let step: Int; let loss: Float; let learningRate: Double; let imagesPerSecond: Double }
    private let csv: URL
    private let chart: URL
    private var rows: [Row] = []
    /// An exponential moving average of the loss, for display.
    public private(set) var smoothedLoss: Float = .nan

    /// The log of the run in `folder`; with `resume`, the rows it already wrote.
    public init(folder: URL, resume: Bool) throws {
        csv = folder.appendingPathComponent("loss.csv")
        chart = folder.appendingPathComponent("loss.svg")
        guard resume, let text = try? String(contentsOf: csv, encoding: .utf8) else { return }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",")
            guard fields.count == 4, let step = Int(fields[0]), let loss = Float(fields[1]),
                  let rate = Double(fields[2]), let speed = Double(fields[3]) else { continue }
            rows.append(Row(step: step, loss: loss, learningRate: rate, imagesPerSecond: speed))
        }
        smoothedLoss = rows.last?.loss ?? .nan
    }

    /// Drops rows after `step` (written after the checkpoint a resume starts from).
    public mutating func truncate(after step: Int) { rows.removeAll { $0.step > step } }

    public mutating func append(step: Int, loss: Float, learningRate: Double, imagesPerSecond: Double) {
        rows.append(Row(step: step, loss: loss, learningRate: learningRate, imagesPerSecond: imagesPerSecond))
        smoothedLoss = smoothedLoss.isNaN ? loss : 0.98 * smoothedLoss + 0.02 * loss
    }

    /// Rewrites loss.csv and loss.svg.
    public func write() throws {
        var text = "step,loss,learning_rate,images_per_second\n"
        for row in rows {
            text += "\(row.step),\(row.loss),\(row.learningRate),\(String(format: "%.2f", row.imagesPerSecond))\n"
        }
        try writeAtomically(Array(text.utf8), to: csv)
        // The raw loss is noisy (each step sees random timesteps): plot a running mean too.
        var smoothed: [(x: Double, y: Double)] = []
        var running = rows.first.map { Double($0.loss) } ?? 0
        for row in rows {
            running = 0.98 * running + 0.02 * Double(row.loss)
            smoothed.append((Double(row.step), running))
        }
        let chartSVG = LineChart(title: "Training loss", xLabel: "step", yLabel: "loss (MSE)", series: [
            .init(name: "loss", points: rows.map { (Double($0.step), Double($0.loss)) }),
            .init(name: "running mean", points: smoothed),
        ], logY: true).svg()
        try writeAtomically(Array(chartSVG.utf8), to: chart)
    }
}
