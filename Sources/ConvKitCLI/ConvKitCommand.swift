import ArgumentParser
import ConvKit
import Foundation

/// The `convkit` command line.
public struct ConvKitCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "convkit",
        abstract: "ConvKit: convolutional neural networks on the CPU, with PyTorch's semantics.",
        subcommands: [OpCommand.self, DemoCommand.self, TrainCommand.self, PredictCommand.self, SummaryCommand.self,
                      ShapeCommand.self, BenchCommand.self])

    public init() {}

    /// Runs the command line and returns the process exit status. Errors are reported as one
    /// line (by default on stderr).
    public static func run(arguments: [String], reportError: (String) -> Void = printError) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let error as ConvKitError {
            reportError(error.description)
        } catch let error as CLIError {
            reportError(error.description)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return 0
            }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            reportError(message.hasPrefix("Error: ") ? "convkit: " + message.dropFirst(7) : message)
            return code.rawValue == 0 ? 1 : code.rawValue
        }
        return 1
    }

    public static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
