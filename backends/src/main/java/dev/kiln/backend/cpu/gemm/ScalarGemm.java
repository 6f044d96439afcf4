package dev.kiln.backend.cpu.gemm;

/**
 * Plain-Java gemm, the fallback when the Vector API module is absent: the blocked, packed loop
 * nest of {@link BlockedGemm} around the scalar register-tiled {@link ScalarFloatKernel} and
 * {@link ScalarDoubleKernel}.
 */
public final class ScalarGemm extends BlockedGemm {
    /** k-block: a KC x NR B panel (16 KiB) is re-read from L1 by every A panel. */
    static final int KC = 256;
    /** m-block: the packed A block, MC x KC floats (128 KiB), stays in L2. */
    static final int MC = 128;
    /** n-block: the packed B block, KC x NC floats (4 MiB at most), streams from L3. */
    static final int NC = 4096;

    /** Uses every available processor for large products. */
    public ScalarGemm() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** @param threads the most threads one call may use; 1 keeps everything on the caller. */
    public ScalarGemm(int threads) {
        this(threads, KC, MC, NC);
    }

    /** Explicit block sizes, for tests that need many blocks on small shapes. */
    ScalarGemm(int threads, int kc, int mc, int nc) {
        super(new ScalarFloatKernel(), new ScalarDoubleKernel(), threads, kc, mc, nc);
    }

    @Override
    public String name() {
        return "scalar(" + tiles() + ", threads=" + threads() + ")";
    }
}
