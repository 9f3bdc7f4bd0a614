import ConvKitCLI
import Foundation

exit(ConvKitCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
