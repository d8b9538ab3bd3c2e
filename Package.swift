// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Diffuse",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "diffuse", targets: ["diffuse"]),
        .library(name: "NN", targets: ["NN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // OpenBLAS: cblas plus the few LAPACK routines the statistics need.
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "NN",
            dependencies: ["CBLAS"]
        ),
        .executableTarget(
            name: "diffuse",
            dependencies: [
                "NN",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "conv-benchmark",
            dependencies: ["NN", "CBLAS"],
            path: "Benchmarks/ConvBenchmark"
        ),
        .testTarget(
            name: "NNTests",
            dependencies: ["NN"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
