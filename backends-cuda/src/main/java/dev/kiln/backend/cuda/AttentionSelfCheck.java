package dev.kiln.backend.cuda;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Arrays;
import java.util.Random;

/**
 * A check of a device's attention kernels against the CPU kernel, run once per device before
 * they serve a model: the forward and the three gradients on small awkward problems (lengths
 * that are not multiples of a tile, L != S, a head dim of 40, bool masks with a row that sees no
 * key (0, as PyTorch 2.5 on gives), a NaN query (NaN in its row and its head's key gradients), an
 * additive mask broadcast over heads, causal, f32 and f64). If any result differs, or a
 * kernel fails, the executor runs attention on the CPU instead, with a warning saying why: a
 * GPU kernel that disagrees with the reference must never give a silently wrong answer. Running
 * out of device memory during the check is not a verdict: the check is rethrown and tried again
 * at the next attention op.
 *
 * <p>Why at run time: the CUDA kernels are compiled with nvcc in CI, but CI has no GPU, so their
 * numerical behaviour on a given GPU and driver is only known once they run there. The check
 * costs a few milliseconds once per device; {@code -Dkiln.cuda.attentionSelfCheck=false} skips it.
 */
final class AttentionSelfCheck {
    private AttentionSelfCheck() {}

    /** Runs one op on the device under check (its kernels, never through this check). */
    @FunctionalInterface
    interface Device {
        Strided run(Op op, Strided[] in, Attrs attrs, TensorType type);
    }

    static boolean enabled() { return !"false".equals(System.getProperty("kiln.cuda.attentionSelfCheck")); }

    /** The mask a case passes: none, an additive one of the case's dtype, or a bool one, with or without a dead row. */
    private enum Mask { NONE, ADDITIVE, BOOL, BOOL_WITH_DEAD_ROW }

    /**
     * One problem: q [batch..., L, E], k [batch..., S, E], v [batch..., S, Ev], a mask, causal,
     * scale; with {@code nanQuery}, q's row 2 of head 3 is NaN in its first element.
     */
    private record Case(String name, DType dtype, int[] batch, int l, int s, int e, int ev, Mask mask, int[] maskShape, boolean causal, Double scale,
                        boolean nanQuery) {
        Case(String name, DType dtype, int[] batch, int l, int s, int e, int ev, Mask mask, int[] maskShape, boolean causal, Double scale) {
            this(name, dtype, batch, l, s, e, ev, mask, maskShape, causal, scale, false);
        }
    }

    private static final Case[] CASES = {
        // the dead row is in batch 0's plane only; the NaN query in head 3 (batch 1) makes that
        // head's dk and dv NaN, and heads 4 and 5 have finite ones to compare
        new Case("f32, bool mask with a row that sees no key, a NaN query", DType.FLOAT32, new int[] {2, 3}, 70, 67, 40, 24, Mask.BOOL_WITH_DEAD_ROW,
                new int[] {2, 1, 70, 67}, false, null, true),
        new Case("f32, causal, 130 x 130, head dim 64", DType.FLOAT32, new int[] {1, 2}, 130, 130, 64, 64, Mask.NONE, null, true, null),
        new Case("f32, self-attention, causal, a bool mask row that sees no key", DType.FLOAT32, new int[] {2, 2}, 70, 70, 32, 32, Mask.BOOL_WITH_DEAD_ROW, new int[] {2, 1, 70, 70}, true, null),
        new Case("f32, additive mask over heads, causal, scale 0.3", DType.FLOAT32, new int[] {3, 2}, 33, 33, 8, 16, Mask.ADDITIVE, new int[] {3, 1, 33, 33}, true, 0.3),
        new Case("f64, bool mask and causal, L != S", DType.FLOAT64, new int[] {2}, 37, 45, 80, 8, Mask.BOOL, new int[] {37, 45}, true, null),
    };

    /**
     * Null when the device agrees with the CPU kernel on every case, else a description of the
     * first disagreement (the case, the result, the element and both values) or of the failure.
     * Out of device memory is rethrown: it says nothing about the kernels.
     */
    static String disagreement(Device device) {
        Random rnd = new Random(17);
        for (Case c : CASES) {
            try {
                String d = check(c, device, rnd);
                if (d != null) return c.name + ": " + d;
            } catch (CudaOutOfMemoryException e) {
                throw e;
            } catch (RuntimeException | LinkageError e) {
                return c.name + ": the kernel failed: " + e;
            }
        }
        return null;
    }

    private static String check(Case c, Device device, Random rnd) {
        Strided q = random(c.dtype, rnd, shape(c.batch, c.l, c.e)), k = random(c.dtype, rnd, shape(c.batch, c.s, c.e));
        if (c.nanQuery) {
            int at = (3 * c.l + 2) * c.e;
            if (q.storage().array() instanceof float[] f) f[at] = Float.NaN;
            else ((double[]) q.storage().array())[at] = Double.NaN;
        }
        Strided v = random(c.dtype, rnd, shape(c.batch, c.s, c.ev)), go = random(c.dtype, rnd, shape(c.batch, c.l, c.ev));
        Strided mask = switch (c.mask) {
            case NONE -> null;
            case ADDITIVE -> random(c.dtype, rnd, c.maskShape);
            case BOOL, BOOL_WITH_DEAD_ROW -> keepMost(rnd, c.maskShape, c.mask == Mask.BOOL_WITH_DEAD_ROW);
        };
        Attrs fa = Attrs.of("causal", c.causal, "scale", c.scale);
        TensorType outT = TensorType.of(c.dtype, shape(c.batch, c.l, c.ev));
        Strided[] in = mask == null ? new Strided[] {q, k, v} : new Strided[] {q, k, v, mask};
        Strided out = CpuKernels.run(Op.SCALED_DOT_PRODUCT_ATTENTION, in, fa, outT);
        String d = compare("output", out, device.run(Op.SCALED_DOT_PRODUCT_ATTENTION, in, fa, outT));
        if (d != null) return d;
        Strided[] operands = {q, k, v};
        for (int i = 0; i < 3; i++) {
            String wrt = "qkv".substring(i, i + 1);
            Attrs ga = Attrs.of("wrt", wrt, "causal", c.causal, "scale", c.scale);
            Strided[] gin = mask == null ? new Strided[] {q, k, v, out, go} : new Strided[] {q, k, v, out, go, mask};
            TensorType gt = TensorType.of(c.dtype, operands[i].shape());
            d = compare("gradient wrt " + wrt, CpuKernels.run(Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, gin, ga, gt),
                    device.run(Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, gin, ga, gt));
            if (d != null) return d;
        }
        if (c.l == c.s && c.e == c.ev) { // a self-attention's shapes: the three gradients in one op too
            Strided[] bin = mask == null ? new Strided[] {q, k, v, go} : new Strided[] {q, k, v, go, mask};
            int[] stacked = new int[q.rank() + 1];
            stacked[0] = 3;
            System.arraycopy(q.shape(), 0, stacked, 1, q.rank());
            TensorType bt = TensorType.of(c.dtype, stacked);
            d = compare("the stacked gradients", CpuKernels.run(Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD, bin, fa, bt),
                    device.run(Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD, bin, fa, bt));
        }
        return d;
    }

    /**
     * Null when both hold the same shape, NaN at the same elements, and values within 1e-4
     * (f32; 1e-9 for f64) relative to 1 + |reference|.
     */
    static String compare(String what, Strided reference, Strided device) {
        if (!Arrays.equals(reference.shape(), device.shape())) {
            return what + " has shape " + Arrays.toString(device.shape()) + ", the CPU kernel's " + Arrays.toString(reference.shape());
        }
        double tol = reference.dtype() == DType.FLOAT64 ? 1e-9 : 1e-4;
        double[] want = doubles(reference), got = doubles(device);
        for (int i = 0; i < want.length; i++) {
            boolean same = Double.isNaN(want[i]) ? Double.isNaN(got[i]) : Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i]));
            if (!same) return what + " element " + i + " is " + got[i] + " on the device, " + want[i] + " on the CPU";
        }
        return null;
    }

    private static double[] doubles(Strided t) {
        Strided d = Copy.toContiguous(t, DType.FLOAT64);
        return Arrays.copyOfRange(d.storage().f64(), d.offset(), d.offset() + d.numel());
    }

    private static int[] shape(int[] batch, int rows, int cols) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = rows;
        s[batch.length + 1] = cols;
        return s;
    }

    private static Strided random(DType t, Random rnd, int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        if (t == DType.FLOAT64) {
            double[] a = new double[n];
            for (int i = 0; i < n; i++) a[i] = rnd.nextGaussian();
            return Strided.contiguous(Storage.wrap(a), shape);
        }
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return Strided.contiguous(Storage.wrap(a), shape);
    }

    /**
     * A bool mask [..., L, S] keeping about 80% of the keys and always key 0 (so every row sees
     * one under causal too), or with {@code deadRow5} none for query row 5 of the first [L, S]
     * plane (its output is 0 there, and it adds nothing to any gradient).
     */
    private static Strided keepMost(Random rnd, int[] shape, boolean deadRow5) {
        int l = shape[shape.length - 2], s = shape[shape.length - 1], n = 1;
        for (int d : shape) n *= d;
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) keep[i] = deadRow5 && i / s == 5 ? false : i % s == 0 || rnd.nextDouble() < 0.8;
        return Strided.contiguous(Storage.wrap(keep), shape);
    }
}
