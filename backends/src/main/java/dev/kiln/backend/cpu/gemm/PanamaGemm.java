package dev.kiln.backend.cpu.gemm;

/**
 * Vector API gemm: the blocked, packed loop nest of {@link BlockedGemm} around the register-tiled
 * {@link VectorFloatKernel} (8 rows x 2 vectors; 8 x 32 with 512-bit vectors) and
 * {@link VectorDoubleKernel}.
 *
 * <p>Tile choice, measured with GemmSpeed on Zen 4 (JDK 25, 16 float lanes, 1 thread): 8x2V,
 * 6x3V, 12x2V, 8x3V and 6x4V all land at 85-100 GFLOP/s for n = 512..1024, within run-to-run
 * noise; 8x2V (16 accumulators, 19 of 32 vector registers) was the steadiest. With
 * -XX:UseAVX=2 (8 lanes, 16 registers) 8x2V, 6x2V and 4x3V all give ~40 GFLOP/s, so one shape
 * serves both.
 *
 * <p>Only load this class when {@code jdk.incubator.vector} is in the boot layer; go through
 * {@link GemmProvider}.
 */
public final class PanamaGemm extends BlockedGemm {
    /**
     * k-block. Larger KC means fewer passes of C through the kernel (each pass loads and stores
     * the tile); GemmSpeed on Zen 4 peaked at 512 (256 was ~10% slower at n=1024).
     */
    static final int KC = 512;
    /** m-block: the packed A block, MC x KC floats (256 KiB), stays in the 1 MiB L2. */
    static final int MC = 128;
    /** n-block: the packed B block, KC x NC floats (8 MiB at most), streams from L3. */
    static final int NC = 4096;

    /** Uses every available processor for large products. */
    public PanamaGemm() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** @param threads the most threads one call may use; 1 keeps everything on the caller. */
    public PanamaGemm(int threads) {
        this(threads, KC, MC, NC);
    }

    /** Explicit block sizes, for tests that need many blocks on small shapes. */
    PanamaGemm(int threads, int kc, int mc, int nc) {
        super(new VectorFloatKernel(), new VectorDoubleKernel(), threads, kc, mc, nc);
    }

    @Override
    public String name() {
        return "panama(" + tiles() + ", threads=" + threads() + ")";
    }
}
