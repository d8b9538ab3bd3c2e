import Foundation
import NN
#if canImport(Glibc)
import Glibc
#endif

/// Open MPI, loaded when the program starts under `mpirun` (never linked: the plain build and
/// its tests need no MPI). Gradients are summed with MPI_Allreduce, whose result Open MPI
/// makes the same on every rank.
public final class MPIReducer: GradientReducer {
    public let rank: Int
    public let size: Int
    /// Processes of the run on this machine (Open MPI's local size).
    public let localSize: Int
    /// What `sum` has done so far: calls, bytes summed and seconds spent (for the report).
    public private(set) var sums = 0, bytesSummed = 0, secondsSumming = 0.0

    private typealias InitFunction = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32
    private typealias CommQuery = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?) -> Int32
    private typealias AllreduceFunction = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
    private typealias FinalizeFunction = @convention(c) () -> Int32

    private let allreduce: AllreduceFunction
    private let finalize: FinalizeFunction
    private let world, float, int, sumOp, maxOp: OpaquePointer
    /// Open MPI's MPI_IN_PLACE.
    private static let inPlace = UnsafeRawPointer(bitPattern: 1)

    /// The number of processes `mpirun` started, from the environment Open MPI gives each
    /// process; nil when not started by `mpirun`.
    public static var launchedSize: Int? {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init)
    }

    /// Loads libmpi (the first of `libraries` that loads) and joins the run. Throws a one-line
    /// error naming what is missing.
    public init(libraries: [String] = ["libmpi.so.40", "libmpi.so"]) throws {
        guard let library = libraries.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_GLOBAL) }).first else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            throw DistributedError("started under mpirun, but Open MPI's library cannot be loaded (\(reason)); install openmpi-bin and libopenmpi-dev")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(library, name) else { throw DistributedError("Open MPI's library lacks \(name)") }
            return address
        }
        let initialize = unsafeBitCast(try symbol("MPI_Init"), to: InitFunction.self)
        let commRank = unsafeBitCast(try symbol("MPI_Comm_rank"), to: CommQuery.self)
        let commSize = unsafeBitCast(try symbol("MPI_Comm_size"), to: CommQuery.self)
        allreduce = unsafeBitCast(try symbol("MPI_Allreduce"), to: AllreduceFunction.self)
        finalize = unsafeBitCast(try symbol("MPI_Finalize"), to: FinalizeFunction.self)
        // Open MPI's handles are the addresses of these objects.
        world = OpaquePointer(try symbol("ompi_mpi_comm_world"))
        float = OpaquePointer(try symbol("ompi_mpi_float"))
        int = OpaquePointer(try symbol("ompi_mpi_int"))
        sumOp = OpaquePointer(try symbol("ompi_mpi_op_sum"))
        maxOp = OpaquePointer(try symbol("ompi_mpi_op_max"))
        guard initialize(nil, nil) == 0 else { throw DistributedError("MPI_Init failed") }
        var value: Int32 = 0
        guard commRank(world, &value) == 0 else { throw DistributedError("MPI_Comm_rank failed") }
        rank = Int(value)
        guard commSize(world, &value) == 0 else { throw DistributedError("MPI_Comm_size failed") }
        size = Int(value)
        localSize = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
    }

    deinit { _ = finalize() }

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            sums += 1
            bytesSummed += values.count * MemoryLayout<Float>.size
            secondsSumming += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        }
        // MPI counts are 32-bit: large buffers go in pieces.
        var start = 0
        while start < values.count {
            let count = min(values.count - start, Int(Int32.max))
            guard allreduce(Self.inPlace, values.baseAddress! + start, Int32(count), float, sumOp, world) == 0 else {
                throw DistributedError("MPI_Allreduce of gradients failed")
            }
            start += count
        }
    }

    public func maximum(_ value: Int32) throws -> Int32 {
        var result = value
        guard allreduce(Self.inPlace, &result, 1, int, maxOp, world) == 0 else { throw DistributedError("MPI_Allreduce failed") }
        return result
    }
}

/// A problem starting or running a multi-process run.
public struct DistributedError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
