package dev.kiln.backend.cpu.gemm;

/**
 * Vector API gemm, GotoBLAS/BLIS structure: B is packed per (KC x NC) block into NR-column
 * panels, A per (MC x KC) block into MR-row panels, and a register-tiled micro-kernel
 * ({@link FloatKernel}, {@link DoubleKernel}) sweeps MR x NR tiles of C.
 *
 * <p>Only load this class when {@code jdk.incubator.vector} is in the boot layer; go through
 * {@link GemmProvider}.
 */
public final class PanamaGemm implements Gemm {
    /**
     * k-block. A B micro-panel (KC x NR) is re-read from L1 by every A panel of the block, and an
     * A block (MC x KC) is re-read from L2 by every B micro-panel.
     */
    static final int KC = 256;
    /** m-block: MC x KC floats (128 KiB) sit in the 1 MiB L2 with room for B panels streaming by. */
    static final int MC = 128;
    /** n-block: KC x NC floats (4 MiB) of packed B live in L3. */
    static final int NC = 4096;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    /** Edge-tile buffers, one per thread, sized by the species. */
    private static final ThreadLocal<float[]> FLOAT_TILE =
            ThreadLocal.withInitial(() -> new float[FloatKernel.MR * FloatKernel.NR]);
    private static final ThreadLocal<double[]> DOUBLE_TILE =
            ThreadLocal.withInitial(() -> new double[DoubleKernel.MR * DoubleKernel.NR]);

    private final int threads;
    private final int kcBlock;
    private final int mcBlock;
    private final int ncBlock;

    /** Uses every available processor for large products. */
    public PanamaGemm() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** @param threads the most threads one call may use; 1 keeps everything on the caller. */
    public PanamaGemm(int threads) {
        this(threads, KC, MC, NC);
    }

    /**
     * Explicit block sizes, for tests that need many blocks on small shapes. mc is rounded up to
     * whole MR panels and nc to whole NR panels so blocks never split a tile.
     */
    PanamaGemm(int threads, int kc, int mc, int nc) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1: " + threads);
        if (kc < 1 || mc < 1 || nc < 1) throw new IllegalArgumentException("block sizes must be >= 1");
        this.threads = threads;
        this.kcBlock = kc;
        this.mcBlock = roundUp(mc, lcm(FloatKernel.MR, DoubleKernel.MR));
        this.ncBlock = roundUp(nc, lcm(FloatKernel.NR, DoubleKernel.NR));
    }

    @Override
    public String name() {
        return "panama(f32 " + FloatKernel.MR + "x" + FloatKernel.NR + ", f64 " + DoubleKernel.MR
                + "x" + DoubleKernel.NR + ", threads=" + threads + ")";
    }

    @Override
    public void sgemm(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                      float[] b, int bOff, int bRs, int bCs,
                      float[] c, int cOff, int ldc, boolean accumulate) {
        GemmArgs.checkShape(m, n, k, ldc);
        if (GemmArgs.trivial(m, n, k, c, cOff, ldc, accumulate)) return;
        int mr = FloatKernel.MR, nr = FloatKernel.NR;
        int parts = GemmParallel.parts(threads, m, n, k, mr, nr);
        if (parts == 1) {
            sgemmSerial(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate);
            return;
        }
        GemmParallel.run(parts, m, n, mr, nr, (i0, i1, j0, j1) -> sgemmSerial(i1 - i0, j1 - j0, k,
                a, aOff + i0 * aRs, aRs, aCs, b, bOff + j0 * bCs, bRs, bCs,
                c, cOff + i0 * ldc + j0, ldc, accumulate));
    }

    @Override
    public void dgemm(int m, int n, int k, double[] a, int aOff, int aRs, int aCs,
                      double[] b, int bOff, int bRs, int bCs,
                      double[] c, int cOff, int ldc, boolean accumulate) {
        GemmArgs.checkShape(m, n, k, ldc);
        if (GemmArgs.trivial(m, n, k, c, cOff, ldc, accumulate)) return;
        int mr = DoubleKernel.MR, nr = DoubleKernel.NR;
        int parts = GemmParallel.parts(threads, m, n, k, mr, nr);
        if (parts == 1) {
            dgemmSerial(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate);
            return;
        }
        GemmParallel.run(parts, m, n, mr, nr, (i0, i1, j0, j1) -> dgemmSerial(i1 - i0, j1 - j0, k,
                a, aOff + i0 * aRs, aRs, aCs, b, bOff + j0 * bCs, bRs, bCs,
                c, cOff + i0 * ldc + j0, ldc, accumulate));
    }

    private void sgemmSerial(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                             float[] b, int bOff, int bRs, int bCs,
                             float[] c, int cOff, int ldc, boolean accumulate) {
        final int mr = FloatKernel.MR, nr = FloatKernel.NR;
        int kcMax = Math.min(k, kcBlock);
        Scratch s = SCRATCH.get();
        float[] pa = s.floatA(kcMax * roundUp(Math.min(m, mcBlock), mr));
        float[] pb = s.floatB(kcMax * roundUp(Math.min(n, ncBlock), nr));
        float[] tile = FLOAT_TILE.get();
        for (int jc = 0; jc < n; jc += ncBlock) {
            int nc = Math.min(ncBlock, n - jc);
            for (int pc = 0; pc < k; pc += kcBlock) {
                int kc = Math.min(kcBlock, k - pc);
                // The first k block overwrites C (never reading it); later ones add to it.
                boolean first = pc == 0 && !accumulate;
                Pack.packB(b, bOff + pc * bRs + jc * bCs, bRs, bCs, kc, nc, nr, pb);
                for (int ic = 0; ic < m; ic += mcBlock) {
                    int mc = Math.min(mcBlock, m - ic);
                    Pack.packA(a, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, mr, pa);
                    for (int jr = 0; jr < nc; jr += nr) {
                        int cols = Math.min(nr, nc - jr);
                        int bi = (jr / nr) * kc * nr;
                        int cBase = cOff + ic * ldc + jc + jr;
                        for (int ir = 0; ir < mc; ir += mr) {
                            FloatKernel.tile(kc, pa, (ir / mr) * kc * mr, pb, bi,
                                    c, cBase + ir * ldc, ldc, Math.min(mr, mc - ir), cols, first, tile);
                        }
                    }
                }
            }
        }
    }

    private void dgemmSerial(int m, int n, int k, double[] a, int aOff, int aRs, int aCs,
                             double[] b, int bOff, int bRs, int bCs,
                             double[] c, int cOff, int ldc, boolean accumulate) {
        final int mr = DoubleKernel.MR, nr = DoubleKernel.NR;
        int kcMax = Math.min(k, kcBlock);
        Scratch s = SCRATCH.get();
        double[] pa = s.doubleA(kcMax * roundUp(Math.min(m, mcBlock), mr));
        double[] pb = s.doubleB(kcMax * roundUp(Math.min(n, ncBlock), nr));
        double[] tile = DOUBLE_TILE.get();
        for (int jc = 0; jc < n; jc += ncBlock) {
            int nc = Math.min(ncBlock, n - jc);
            for (int pc = 0; pc < k; pc += kcBlock) {
                int kc = Math.min(kcBlock, k - pc);
                boolean first = pc == 0 && !accumulate;
                Pack.packB(b, bOff + pc * bRs + jc * bCs, bRs, bCs, kc, nc, nr, pb);
                for (int ic = 0; ic < m; ic += mcBlock) {
                    int mc = Math.min(mcBlock, m - ic);
                    Pack.packA(a, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, mr, pa);
                    for (int jr = 0; jr < nc; jr += nr) {
                        int cols = Math.min(nr, nc - jr);
                        int bi = (jr / nr) * kc * nr;
                        int cBase = cOff + ic * ldc + jc + jr;
                        for (int ir = 0; ir < mc; ir += mr) {
                            DoubleKernel.tile(kc, pa, (ir / mr) * kc * mr, pb, bi,
                                    c, cBase + ir * ldc, ldc, Math.min(mr, mc - ir), cols, first, tile);
                        }
                    }
                }
            }
        }
    }

    private static int lcm(int x, int y) {
        int a = x, b = y;
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return x / a * y;
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
