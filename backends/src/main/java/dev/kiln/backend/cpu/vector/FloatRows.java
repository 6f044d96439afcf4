package dev.kiln.backend.cpu.vector;

/**
 * Hot float32 row loops. Two implementations: {@link ScalarFloatRows} (plain Java) and
 * {@code PanamaFloatRows} (Vector API); {@link VectorSupport} picks one and says why.
 */
public interface FloatRows {

    /** GELU_GRAD is a * gelu'(b) (erf form), as {@code MathFns.geluGradFloat}: the gradient a at input b. */
    enum Binary { ADD, SUB, MUL, DIV, MAX, MIN, GELU_GRAD }

    /** GELU is the exact (erf) form, computed as {@code MathFns.geluFloat}; ERF as {@code MathFns.erfFloat} (float32 accuracy). */
    enum Unary { NEG, ABS, RELU, SQRT, EXP, TANH, SIGMOID, GELU, ERF }

    /** Comparisons with Java's float semantics: false for NaN, except NE which is true. */
    enum Compare { EQ, NE, LT, LE, GT, GE }

    /** out[oo+i] = a[ao+i*as] op b[bo+i*bs]; strides are arbitrary (0 = broadcast). */
    void binary(Binary op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] out, int oo, int n);

    /** out[oo+i] = a[ao+i*as] op b[bo+i*bs]; strides are arbitrary (0 = broadcast). */
    void compare(Compare op, float[] a, int ao, int as, float[] b, int bo, int bs, boolean[] out, int oo, int n);

    /** out[oo+i] = c[co+i*cs] ? x[xo+i*xs] : y[yo+i*ys] (the where op); strides are arbitrary. */
    void select(boolean[] c, int co, int cs, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] out, int oo, int n);

    /**
     * C[i][j] (+)= dot(row i of A, row j of B) for i < m, j < n over k elements: C = A Bᵀ
     * with A [m x k] and B [n x k] both row-major (rows lda / ldb apart), C row-major (ldc).
     * This is the shape of a convolution's weight gradient (gradient rows against im2col rows,
     * both long and contiguous), where the packed GEMM would first transpose-pack B.
     */
    void dotRows(int m, int n, int k, float[] a, int ao, int lda, float[] b, int bo, int ldb,
                 float[] c, int co, int ldc, boolean accumulate);

    /**
     * One tap of a running window argmax (max pooling), for j < n: v = x[xo + map[j]]; where
     * v > best[j] or v is NaN (PyTorch's rule), best[j] = v and idx[j] = cand + map[j].
     */
    void argmaxStep(float[] x, int xo, int[] map, float[] best, int[] idx, int cand, int n);

    /**
     * Max pooling's rule on pairs of neighbours, for q < n: a = x[xo+2q], b = x[xo+2q+1];
     * second[q] = 1 when b > a or b is NaN (PyTorch's rule: a later greater value or NaN
     * wins), else 0, and best[q] is the winner. The horizontal half of a 2x2, stride-2 pool.
     * The flags are ints so callers index with them without a branch.
     */
    void pairMax(float[] x, int xo, float[] best, int bo, int[] second, int so, int n);

    /** second[so+i] = 1 when b[bo+i] > a[ao+i] or b[bo+i] is NaN, else 0: the same rule between two rows. */
    void takesSecond(float[] a, int ao, float[] b, int bo, int[] second, int so, int n);

    /**
     * Copies {@code rows} runs of {@code len} floats, the r-th from src[so + r*srcStride] to
     * dst[dO + r*dstStride]: im2col's shifted image rows, typically 5-28 floats long.
     */
    void copyRows(float[] src, int so, int srcStride, float[] dst, int dO, int dstStride, int rows, int len);

    /**
     * C (+)= A B for small operands already in cache, without packing them: A [m x k] read
     * through its strides (ars, acs), B [k x n] by rows (row stride ldb, columns contiguous), C
     * row-major (ldc), not overlapping A or B. Each element is one fused multiply-add chain over
     * k in order from 0, then added to C's value when {@code accumulate}: the Vector API GEMM's
     * bits while k fits its 512-deep block (attention's tiles, where packing cost as much as the
     * products).
     */
    void product(int m, int n, int k, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                 float[] c, int co, int ldc, boolean accumulate);

    /**
     * Direct convolution (stride 1, no dilation) of one sample's zero-padded input planes, for
     * output channels oc < no and positions p < positions of the padded-width grid:
     * out[oo + oc*ldo + p] = bias[bo + oc] (0 when bias is null) plus, for c < channels,
     * ki < kh, kj < kw in that order, w[wo + ((oc*channels + c)*kh + ki)*kw + kj] times
     * in[io + c*planeStride + p + ki*wp + kj], each added with one fused multiply-add.
     * Implementations may compute positions up to the next multiple of {@link #CONV_GRANULE}:
     * out rows (ldo apart) and the planes must have room for them.
     */
    void convDirect(float[] in, int io, int planeStride, int channels, int kh, int kw, int wp, float[] w, int wo,
                    float[] bias, int bo, float[] out, int oo, int ldo, int no, int positions);

    /**
     * The weight gradient of {@link #convDirect} over {@code samples} samples: for oc < no and
     * taps (c, ki, kj), acc[ao + oc*taps + (c*kh + ki)*kw + kj] += the sum over samples s and
     * positions p < positions of g[go + s*gStride + oc*ldg + p] * in[io + s*inStride + c*planeStride + p + ki*wp + kj],
     * taps = channels*kh*kw. positions is a multiple of {@link #VECTOR_GRANULE}; g must be zero at
     * the positions that are not outputs (the padding columns and the rounded-up tail).
     */
    void convWeightGrad(float[] in, int io, int inStride, int planeStride, int channels, int kh, int kw, int wp,
                        float[] g, int go, int gStride, int ldg, int no, int samples, int positions, float[] acc, int ao);

    /** The multiple of positions {@link #convDirect} may round up to: two vectors of 16 floats. */
    int CONV_GRANULE = 32;

    /** A multiple of every vector length in floats (512-bit vectors hold 16). */
    int VECTOR_GRANULE = 16;

    /**
     * One output row of a 2x2, stride-2 max pool: out[oo + j] for j < wo is the window of
     * x[top + 2j], x[top + 2j + 1], x[top + wp + 2j], x[top + wp + 2j + 1], by max_pool2d's rule
     * (a later tap in row-major order wins when greater or NaN: the last NaN, else the first
     * maximum). May read up to {@link #CONV_GRANULE} floats past 2*wo of either row.
     */
    void maxPool2x2Row(float[] x, int top, int wp, float[] out, int oo, int wo);

    /** out[oo+i] = op(x[xo+i]) on contiguous rows. */
    void unary(Unary op, float[] x, int xo, float[] out, int oo, int n);

    /**
     * Sum of a contiguous row. Blocks of {@link #SUM_BLOCK} elements are summed in float
     * lanes and the block sums accumulated in double, in a fixed order: the result depends
     * only on the data, not on how callers split work between threads at block boundaries.
     */
    double sum(float[] x, int off, int n);

    int SUM_BLOCK = 1024;

    /**
     * dot(a[ao, ao + n), b[bo, bo + n)) as {@link #sum} sums: blocks of {@link #SUM_BLOCK} in
     * float lanes, each as {@link #dotRows} computes one element, the blocks added in double, so a
     * long row loses no more than one block's rounding (layer norm's variance, softmax's
     * gradient).
     */
    double dot(float[] a, int ao, float[] b, int bo, int n);

    /**
     * Largest element of a contiguous row, NaN when any is NaN (Math.max's rule); -inf for an
     * empty row. Which zero a tie of -0 and +0 returns is unspecified.
     */
    float max(float[] x, int off, int n);

    /** Smallest element, as {@link #max}; +inf for an empty row. */
    float min(float[] x, int off, int n);

    /**
     * softmax of a contiguous row into {@code out} (which may be x itself): exp(x - max), the
     * exps summed as {@link #sum} sums, then each divided by the sum. A row of -inf (no max to
     * subtract) is NaN, as PyTorch's.
     */
    void softmax(float[] x, int xo, float[] out, int oo, int n);

    String name();
}
