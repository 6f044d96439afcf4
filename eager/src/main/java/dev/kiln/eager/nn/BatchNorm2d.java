package dev.kiln.eager.nn;

/** Batch normalization of [N,C,H,W] input. */
public class BatchNorm2d extends BatchNorm {
    public BatchNorm2d(int numFeatures) { this(numFeatures, 1e-5, 0.1, true, true); }

    public BatchNorm2d(int numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        super(numFeatures, eps, momentum, affine, trackRunningStats);
    }

    @Override
    protected boolean acceptsRank(int r) { return r == 4; }

    @Override
    protected String inputForm() { return "[N," + numFeatures + ",H,W]"; }
}
