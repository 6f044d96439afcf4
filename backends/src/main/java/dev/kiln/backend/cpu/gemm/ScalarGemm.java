package dev.kiln.backend.cpu.gemm;

import java.util.Arrays;

/**
 * Plain-Java gemm: the fallback when the Vector API module is absent.
 *
 * <p>B is packed in KC x NC blocks into one row-major buffer, so the inner loop is a unit-stride
 * axpy of a C row segment against a packed B row that C2 auto-vectorizes; the B block stays in
 * L2 while every row of A sweeps over it. A is read in place (one scalar per k step), so it needs
 * no packing whatever its strides.
 */
public final class ScalarGemm implements Gemm {
    /** k-block: KC x NC floats of B (512 KiB) fit comfortably in a 1 MiB L2. */
    private static final int KC = 256;
    /** n-block: a C row segment of NC floats (2 KiB) stays in L1 across the k loop. */
    private static final int NC = 512;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final int threads;

    /** Uses every available processor for large products. */
    public ScalarGemm() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** @param threads the most threads one call may use; 1 keeps everything on the caller. */
    public ScalarGemm(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1: " + threads);
        this.threads = threads;
    }

    @Override
    public String name() {
        return "scalar(threads=" + threads + ")";
    }

    @Override
    public void sgemm(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                      float[] b, int bOff, int bRs, int bCs,
                      float[] c, int cOff, int ldc, boolean accumulate) {
        GemmArgs.checkShape(m, n, k, ldc);
        if (GemmArgs.trivial(m, n, k, c, cOff, ldc, accumulate)) return;
        int parts = GemmParallel.parts(threads, m, n, k, 4, 64);
        if (parts == 1) {
            sgemmSerial(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate);
            return;
        }
        GemmParallel.run(parts, m, n, 4, 64, (i0, i1, j0, j1) -> sgemmSerial(i1 - i0, j1 - j0, k,
                a, aOff + i0 * aRs, aRs, aCs, b, bOff + j0 * bCs, bRs, bCs,
                c, cOff + i0 * ldc + j0, ldc, accumulate));
    }

    @Override
    public void dgemm(int m, int n, int k, double[] a, int aOff, int aRs, int aCs,
                      double[] b, int bOff, int bRs, int bCs,
                      double[] c, int cOff, int ldc, boolean accumulate) {
        GemmArgs.checkShape(m, n, k, ldc);
        if (GemmArgs.trivial(m, n, k, c, cOff, ldc, accumulate)) return;
        int parts = GemmParallel.parts(threads, m, n, k, 4, 32);
        if (parts == 1) {
            dgemmSerial(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate);
            return;
        }
        GemmParallel.run(parts, m, n, 4, 32, (i0, i1, j0, j1) -> dgemmSerial(i1 - i0, j1 - j0, k,
                a, aOff + i0 * aRs, aRs, aCs, b, bOff + j0 * bCs, bRs, bCs,
                c, cOff + i0 * ldc + j0, ldc, accumulate));
    }

    private static void sgemmSerial(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                                    float[] b, int bOff, int bRs, int bCs,
                                    float[] c, int cOff, int ldc, boolean accumulate) {
        if (!accumulate) {
            // Overwrite = zero then accumulate; C's old contents are never read.
            for (int i = 0; i < m; i++) Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
        }
        float[] pb = SCRATCH.get().floatB(Math.min(k, KC) * Math.min(n, NC));
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                // One panel as wide as the block: a plain row-major kc x nc copy.
                Pack.packB(b, bOff + pc * bRs + jc * bCs, bRs, bCs, kc, nc, nc, pb);
                for (int i = 0; i < m; i++) {
                    int ci = cOff + i * ldc + jc;
                    int ai = aOff + i * aRs + pc * aCs;
                    for (int p = 0; p < kc; p++) {
                        float aip = a[ai + p * aCs];
                        int bp = p * nc;
                        for (int j = 0; j < nc; j++) c[ci + j] += aip * pb[bp + j];
                    }
                }
            }
        }
    }

    private static void dgemmSerial(int m, int n, int k, double[] a, int aOff, int aRs, int aCs,
                                    double[] b, int bOff, int bRs, int bCs,
                                    double[] c, int cOff, int ldc, boolean accumulate) {
        if (!accumulate) {
            for (int i = 0; i < m; i++) Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0d);
        }
        double[] pb = SCRATCH.get().doubleB(Math.min(k, KC) * Math.min(n, NC));
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                Pack.packB(b, bOff + pc * bRs + jc * bCs, bRs, bCs, kc, nc, nc, pb);
                for (int i = 0; i < m; i++) {
                    int ci = cOff + i * ldc + jc;
                    int ai = aOff + i * aRs + pc * aCs;
                    for (int p = 0; p < kc; p++) {
                        double aip = a[ai + p * aCs];
                        int bp = p * nc;
                        for (int j = 0; j < nc; j++) c[ci + j] += aip * pb[bp + j];
                    }
                }
            }
        }
    }
}
