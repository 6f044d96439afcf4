package dev.kiln.eager.nn;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;

/**
 * Batch normalization over channel dim 1, shared by BatchNorm1d and BatchNorm2d. Training
 * normalizes with batch statistics and updates running_mean/running_var (unbiased) and
 * num_batches_tracked; eval uses the running statistics.
 */
public abstract class BatchNorm extends Module {
    public final int numFeatures;
    public final double eps, momentum;
    public final Tensor weight, bias, runningMean, runningVar, numBatchesTracked;

    protected BatchNorm(int numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = registerParameter("weight", affine ? Tensor.ones(numFeatures) : null);
        this.bias = registerParameter("bias", affine ? Tensor.zeros(numFeatures) : null);
        this.runningMean = registerBuffer("running_mean", trackRunningStats ? Tensor.zeros(numFeatures) : null);
        this.runningVar = registerBuffer("running_var", trackRunningStats ? Tensor.ones(numFeatures) : null);
        this.numBatchesTracked = registerBuffer("num_batches_tracked", trackRunningStats ? Tensor.zeros(DType.INT64) : null);
    }

    /** The accepted input form for the error message, e.g. {@code [N,C,H,W]}. */
    protected abstract boolean acceptsRank(int rank);

    protected abstract String inputForm();

    @Override
    public Tensor forward(Tensor x) {
        if (!acceptsRank(x.dim()) || x.shape(1) != numFeatures) throw badInput(inputForm(), x);
        boolean useBatchStats = isTraining() || runningMean == null;
        if (isTraining() && numBatchesTracked != null) {
            try (var ng = Autograd.noGrad()) {
                numBatchesTracked.add_(Tensor.scalar(1, DType.INT64));
            }
        }
        return F.batchNorm(x, runningMean, runningVar, weight, bias, useBatchStats, momentum, eps);
    }

    @Override
    protected String shortDescription() { return getClass().getSimpleName() + " " + numFeatures; }

    @Override
    protected String extraRepr() {
        return numFeatures + ", eps=" + eps + ", momentum=" + momentum + ", affine=" + (weight != null) + ", track_running_stats=" + (runningMean != null);
    }
}
