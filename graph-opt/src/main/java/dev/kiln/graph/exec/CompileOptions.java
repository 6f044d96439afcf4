package dev.kiln.graph.exec;

import dev.kiln.backend.device.DeviceExecutor;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.graph.opt.PassManager;

/**
 * How {@link CompiledGraph#compile} treats a graph. {@code level} picks the passes run first
 * (none at O0) and, at O2, elementwise/GEMM-epilogue fusion and buffer reuse in the plan.
 * Fused loops compute every op through its ElementwiseSpec exactly as the eager kernels do, so
 * compiled results are the same bits as eager ones. {@code donatedParams}: see
 * {@link #withDonatedParams}. {@code device}: null runs on the CPU; see {@link #withDevice}.
 */
public record CompileOptions(OptLevel level, boolean freezeParams, boolean verify, int blockSize,
                             java.util.Set<String> donatedParams, DeviceExecutor device) {

    public CompileOptions {
        if (blockSize < 64) throw new IllegalArgumentException("blockSize must be at least 64, got " + blockSize);
        donatedParams = java.util.Set.copyOf(donatedParams);
        if (freezeParams && !donatedParams.isEmpty()) {
            throw new IllegalArgumentException("donated parameters must not be frozen: " + donatedParams);
        }
    }

    /** Level defaults: parameters frozen (inference), no per-pass verification, 2048-element blocks. */
    public static CompileOptions of(OptLevel level) { return new CompileOptions(level, true, false, 2048, java.util.Set.of(), null); }

    public CompileOptions withVerify(boolean v) { return new CompileOptions(level, freezeParams, v, blockSize, donatedParams, device); }

    public CompileOptions withFreezeParams(boolean f) { return new CompileOptions(level, f, verify, blockSize, donatedParams, device); }

    public CompileOptions withBlockSize(int b) { return new CompileOptions(level, freezeParams, verify, b, donatedParams, device); }

    /**
     * Parameters whose buffers a run may overwrite once it no longer needs them, like JAX's
     * donated arguments: the caller passes them as overrides and hands their old values over (a
     * training step's parameters and optimizer state, replaced by the step's outputs). The last
     * step that reads one may then write its output there instead of into a fresh buffer. A
     * donated parameter the caller does not override is copied first, so the graph's own data
     * is never written.
     */
    public CompileOptions withDonatedParams(java.util.Set<String> names) { return new CompileOptions(level, freezeParams, verify, blockSize, names, device); }

    /**
     * Runs the graph's ops on a device (a GPU) instead of the CPU: each fused elementwise group
     * becomes one {@link DeviceExecutor#runFused} call (one generated kernel on CUDA), every other
     * node one {@link DeviceExecutor#run}. The CPU plan's arena, scratch and donation do not
     * apply there: device memory comes from the executor's caching allocator. Inputs, parameters
     * and constants are copied to the device on first use and kept there while unchanged.
     */
    public CompileOptions withDevice(DeviceExecutor d) { return new CompileOptions(level, freezeParams, verify, blockSize, donatedParams, d); }

    boolean fuse() { return level == OptLevel.O2; }

    boolean planMemory() { return level == OptLevel.O2; }

    PassManager passManager() {
        return PassManager.builder().level(level).freezeParams(freezeParams).verify(verify).build();
    }
}
