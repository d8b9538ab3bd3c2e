// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Diffuse",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "diffuse", targets: ["diffuse"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Imaging", targets: ["Imaging"]),
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
        // zlib, for gzip-compressed IDX files.
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libpng's full API behind a small C interface (setjmp stays in C). Needs libpng-dev.
        .target(
            name: "CPNG",
            linkerSettings: [.linkedLibrary("png16")]
        ),
        // Hot loops in C, compiled for 128-bit vectors, AVX2 and AVX-512 and picked at run time.
        .target(name: "Kernels"),
        .target(
            name: "NN",
            dependencies: ["CBLAS", "Kernels"]
        ),
        .target(
            name: "Imaging",
            dependencies: ["NN", "CZlib", "CPNG"]
        ),
        .target(
            name: "Diffusion",
            dependencies: ["NN", "Imaging"]
        ),
        // Open MPI for data-parallel training, loaded at run time under mpirun (not linked).
        .target(
            name: "Distributed",
            dependencies: ["NN"]
        ),
        .target(
            name: "Evaluation",
            dependencies: ["NN", "Imaging", "CBLAS"]
        ),
        .executableTarget(
            name: "diffuse",
            dependencies: [
                "NN",
                "Imaging",
                "Diffusion",
                "Evaluation",
                "Distributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "conv-benchmark",
            dependencies: ["NN", "CBLAS"],
            path: "Benchmarks/ConvBenchmark"
        ),
        .executableTarget(
            name: "unet-benchmark",
            dependencies: ["Diffusion", "Imaging", "NN"],
            path: "Benchmarks/UNetBenchmark"
        ),
        .executableTarget(
            name: "dp-benchmark",
            dependencies: ["Diffusion", "Imaging", "NN"],
            path: "Benchmarks/DPBenchmark"
        ),
        .executableTarget(
            name: "metrics-benchmark",
            dependencies: ["Evaluation", "NN"],
            path: "Benchmarks/MetricsBenchmark"
        ),
        .executableTarget(
            name: "dataset-benchmark",
            dependencies: ["Imaging"],
            path: "Benchmarks/DatasetBenchmark"
        ),
        // The parsers of untrusted files behind one switch, for the fuzzer and the corpus test.
        .target(
            name: "ParserFuzzing",
            dependencies: ["Diffusion", "Imaging", "NN"],
            path: "Fuzzing/ParserFuzzing"
        ),
        // libFuzzer's driver when built with -sanitize=fuzzer -DFUZZING, a replay tool otherwise
        // (Fuzzing/run-fuzzers.sh).
        .executableTarget(
            name: "fuzz-parsers",
            dependencies: ["ParserFuzzing"],
            path: "Fuzzing/FuzzParsers"
        ),
        .testTarget(
            name: "NNTests",
            dependencies: ["NN"]
        ),
        .testTarget(
            name: "ImagingTests",
            dependencies: ["Imaging", "NN"]
        ),
        .testTarget(
            name: "DiffusionTests",
            dependencies: ["Diffusion", "Imaging", "NN"]
        ),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation", "Imaging", "NN"]
        ),
        // The committed fuzzing corpus replayed through every parser.
        .testTarget(
            name: "FuzzingTests",
            dependencies: ["NN", "ParserFuzzing"]
        ),
        // The command-line tool end to end, on tiny models made in the tests.
        .testTarget(
            name: "DiffuseTests",
            dependencies: ["diffuse", "Diffusion", "Distributed", "Evaluation", "Imaging", "NN"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
