// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ConvKit",
    products: [
        .library(name: "ConvKit", targets: ["ConvKit"]),
        .executable(name: "convkit", targets: ["convkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The library: tensor, geometry, ops (argument checking) and kernels (compute only),
        // autograd, layers, training and data.
        .target(name: "ConvKit", dependencies: ["CConvKitKernels", "CZlib"]),
        // Leaf micro-kernels in C, each compiled per instruction set with per-function target
        // attributes and chosen at run time (no compiler flags, so the package stays dependable).
        .target(name: "CConvKitKernels"),
        // The system zlib, for gzip-compressed data (MNIST) and PNG images.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        // The `convkit` commands, as a library so that tests can drive them in-process.
        .target(
            name: "ConvKitCLI",
            dependencies: [
                "ConvKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "convkit", dependencies: ["ConvKitCLI"]),
        .testTarget(
            name: "ConvKitTests",
            dependencies: ["ConvKit", "ConvKitCLI"],
            exclude: ["Fixtures"]
        ),
    ]
)
