package dev.kiln.eager.nn;

/** Batch normalization of [N,C] or [N,C,L] input. */
public class BatchNorm1d extends BatchNorm {
    public BatchNorm1d(int numFeatures) { this(numFeatures, 1e-5, 0.1, true, true); }

    public BatchNorm1d(int numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        super(numFeatures, eps, momentum, affine, trackRunningStats);
    }

    @Override
    protected boolean acceptsRank(int r) { return r == 2 || r == 3; }

    @Override
    protected String inputForm() { return "[N," + numFeatures + "] or [N," + numFeatures + ",L]"; }
}
