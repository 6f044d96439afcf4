package dev.kiln.backend.cpu.vector;

import dev.kiln.backend.cpu.MathFns;

/** The plain-Java fallback used when the Vector API is not available. */
public final class ScalarFloatRows implements FloatRows {

    @Override
    public void binary(Binary op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] out, int oo, int n) {
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] + b[bo + i * bs]; }
            case SUB -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] - b[bo + i * bs]; }
            case MUL -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] * b[bo + i * bs]; }
            case DIV -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] / b[bo + i * bs]; }
            case MAX -> { for (int i = 0; i < n; i++) out[oo + i] = (float) MathFns.max(a[ao + i * as], b[bo + i * bs]); }
            case MIN -> { for (int i = 0; i < n; i++) out[oo + i] = (float) MathFns.min(a[ao + i * as], b[bo + i * bs]); }
            case GELU_GRAD -> {
                float a0 = n > 0 ? a[ao] : 0, b0 = n > 0 ? b[bo] : 0; // a broadcast operand read once: out may be its storage
                for (int i = 0; i < n; i++) out[oo + i] = (float) MathFns.geluGradFloat(as == 0 ? a0 : a[ao + i * as], bs == 0 ? b0 : b[bo + i * bs]);
            }
        }
    }

    @Override
    public void compare(Compare op, float[] a, int ao, int as, float[] b, int bo, int bs, boolean[] out, int oo, int n) {
        switch (op) {
            case EQ -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] == b[bo + i * bs]; }
            case NE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] != b[bo + i * bs]; }
            case LT -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] < b[bo + i * bs]; }
            case LE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] <= b[bo + i * bs]; }
            case GT -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] > b[bo + i * bs]; }
            case GE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i * as] >= b[bo + i * bs]; }
        }
    }

    @Override
    public void select(boolean[] c, int co, int cs, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++) out[oo + i] = c[co + i * cs] ? x[xo + i * xs] : y[yo + i * ys];
    }

    @Override
    public void product(int m, int n, int k, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                        float[] c, int co, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0, ai = ao + i * ars, bi = bo + j; p < k; p++, ai += acs, bi += ldb) s = Math.fma(a[ai], b[bi], s);
                int ci = co + i * ldc + j;
                c[ci] = accumulate ? s + c[ci] : s;
            }
        }
    }

    @Override
    public void dotRows(int m, int n, int k, float[] a, int ao, int lda, float[] b, int bo, int ldb,
                        float[] c, int co, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int ai = ao + i * lda, bi = bo + j * ldb;
                float s = 0;
                for (int p = 0; p < k; p++) s += a[ai + p] * b[bi + p];
                int ci = co + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    @Override
    public double dot(float[] a, int ao, float[] b, int bo, int n) {
        double total = 0;
        for (int s = 0; s < n; s += SUM_BLOCK) {
            int len = Math.min(SUM_BLOCK, n - s);
            float r = 0; // as dotRows sums one element
            for (int p = 0; p < len; p++) r += a[ao + s + p] * b[bo + s + p];
            total += r;
        }
        return total;
    }

    @Override
    public void argmaxStep(float[] x, int xo, int[] map, float[] best, int[] idx, int cand, int n) {
        for (int j = 0; j < n; j++) {
            float v = x[xo + map[j]];
            if (v > best[j] || v != v) {
                best[j] = v;
                idx[j] = cand + map[j];
            }
        }
    }

    @Override
    public void copyRows(float[] src, int so, int srcStride, float[] dst, int dO, int dstStride, int rows, int len) {
        for (int r = 0; r < rows; r++) System.arraycopy(src, so + r * srcStride, dst, dO + r * dstStride, len);
    }

    @Override
    public void convDirect(float[] in, int io, int planeStride, int channels, int kh, int kw, int wp, float[] w, int wo,
                           float[] bias, int bo, float[] out, int oo, int ldo, int no, int positions) {
        int taps = channels * kh * kw;
        for (int oc = 0; oc < no; oc++) {
            float init = bias == null ? 0f : bias[bo + oc];
            for (int p = 0; p < positions; p++) {
                float acc = init;
                for (int c = 0, t = wo + oc * taps; c < channels; c++) {
                    for (int ki = 0; ki < kh; ki++) {
                        int row = io + c * planeStride + p + ki * wp;
                        for (int kj = 0; kj < kw; kj++, t++) acc = Math.fma(w[t], in[row + kj], acc);
                    }
                }
                out[oo + oc * ldo + p] = acc;
            }
        }
    }

    @Override
    public void convWeightGrad(float[] in, int io, int inStride, int planeStride, int channels, int kh, int kw, int wp,
                               float[] g, int go, int gStride, int ldg, int no, int samples, int positions, float[] acc, int ao) {
        int taps = channels * kh * kw;
        for (int oc = 0; oc < no; oc++) {
            for (int c = 0, t = 0; c < channels; c++) {
                for (int ki = 0; ki < kh; ki++) {
                    for (int kj = 0; kj < kw; kj++, t++) {
                        float sum = 0;
                        for (int s = 0; s < samples; s++) {
                            int gb = go + s * gStride + oc * ldg, xb = io + s * inStride + c * planeStride + ki * wp + kj;
                            for (int p = 0; p < positions; p++) sum = Math.fma(g[gb + p], in[xb + p], sum);
                        }
                        acc[ao + oc * taps + t] += sum;
                    }
                }
            }
        }
    }

    @Override
    public void maxPool2x2Row(float[] x, int top, int wp, float[] out, int oo, int wo) {
        for (int j = 0; j < wo; j++) {
            int t = top + 2 * j;
            float best = x[t], v = x[t + 1];
            if (v > best || v != v) best = v;
            v = x[t + wp];
            if (v > best || v != v) best = v;
            v = x[t + wp + 1];
            if (v > best || v != v) best = v;
            out[oo + j] = best;
        }
    }

    @Override
    public void pairMax(float[] x, int xo, float[] best, int bo, int[] second, int so, int n) {
        for (int q = 0; q < n; q++) {
            float a = x[xo + 2 * q], b = x[xo + 2 * q + 1];
            boolean t = b > a || b != b;
            second[so + q] = t ? 1 : 0;
            best[bo + q] = t ? b : a;
        }
    }

    @Override
    public void takesSecond(float[] a, int ao, float[] b, int bo, int[] second, int so, int n) {
        for (int i = 0; i < n; i++) {
            float y = b[bo + i];
            second[so + i] = y > a[ao + i] || y != y ? 1 : 0;
        }
    }

    @Override
    public void unary(Unary op, float[] x, int xo, float[] out, int oo, int n) {
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i++) out[oo + i] = -x[xo + i]; }
            case ABS -> { for (int i = 0; i < n; i++) out[oo + i] = Math.abs(x[xo + i]); }
            case RELU -> { for (int i = 0; i < n; i++) { float v = x[xo + i]; out[oo + i] = v < 0 ? 0f : v; } }
            case SQRT -> { for (int i = 0; i < n; i++) out[oo + i] = (float) Math.sqrt(x[xo + i]); }
            case EXP -> { for (int i = 0; i < n; i++) out[oo + i] = (float) Math.exp(x[xo + i]); }
            case TANH -> { for (int i = 0; i < n; i++) out[oo + i] = (float) Math.tanh(x[xo + i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) out[oo + i] = (float) MathFns.sigmoid(x[xo + i]); }
            case GELU -> { for (int i = 0; i < n; i++) out[oo + i] = (float) MathFns.geluFloat(x[xo + i]); }
            case ERF -> { for (int i = 0; i < n; i++) out[oo + i] = (float) MathFns.erfFloat(x[xo + i]); }
        }
    }

    @Override
    public void softmax(float[] x, int xo, float[] out, int oo, int n) {
        float max = max(x, xo, n), m = max == Float.NEGATIVE_INFINITY ? 0f : max;
        for (int i = 0; i < n; i++) out[oo + i] = (float) Math.exp(x[xo + i] - m);
        float s = (float) sum(out, oo, n);
        for (int i = 0; i < n; i++) out[oo + i] /= s;
    }

    @Override
    public float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    @Override
    public float min(float[] x, int off, int n) {
        float m = Float.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.min(m, x[off + i]);
        return m;
    }

    @Override
    public double sum(float[] x, int off, int n) {
        double total = 0;
        for (int start = 0; start < n; start += SUM_BLOCK) {
            int end = Math.min(n, start + SUM_BLOCK);
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = start;
            for (; i + 3 < end; i += 4) {
                s0 += x[off + i];
                s1 += x[off + i + 1];
                s2 += x[off + i + 2];
                s3 += x[off + i + 3];
            }
            for (; i < end; i++) s0 += x[off + i];
            total += (double) ((s0 + s1) + (s2 + s3));
        }
        return total;
    }

    @Override
    public String name() { return "scalar"; }
}
