package dev.kiln.eager.nn.functional;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import java.util.Arrays;

/** The loss functions behind {@link F}, composed from primitives (so they differentiate and trace). */
final class Losses {
    private Losses() {}

    static int classDim(Tensor input) { return input.dim() == 1 ? 0 : 1; }

    /** Shape [1, C, 1, ...] that broadcasts a per-class vector against the input. */
    static int[] classShape(Tensor input) {
        int[] s = new int[input.dim()];
        Arrays.fill(s, 1);
        s[classDim(input)] = input.shape(classDim(input));
        return s;
    }

    static Tensor crossEntropy(Tensor input, Tensor target, CrossEntropyOptions o) {
        int cd = classDim(input), classes = input.shape(cd);
        Tensor logp = input.logSoftmax(cd);
        double ls = o.labelSmoothing();
        if (target.dtype().isFloatingPoint()) {
            if (!Arrays.equals(target.data().shape(), input.data().shape())) {
                throw new IllegalArgumentException("crossEntropy: probability target " + target.typeString() + " must have the input's shape "
                        + input.typeString());
            }
            Tensor t = ls > 0 ? target.mul(1 - ls).add(ls / classes) : target;
            Tensor prod = logp.mul(t);
            if (o.weight() != null) prod = prod.mul(o.weight().reshape(classShape(input)));
            Tensor loss = prod.sum(new int[] {cd}, false).neg();
            // the mean over the non-class elements, counted at run time: a traced symbolic batch stays symbolic
            if (o.reduction() == Reduction.MEAN) return loss.mean();
            return o.reduction().apply(loss);
        }
        Tensor nll = nllLoss(logp, target, o.weight(), o.ignoreIndex(), o.reduction(), "crossEntropy");
        if (ls == 0) return nll;
        Tensor ignore = target.eq((double) o.ignoreIndex());
        Tensor weighted = o.weight() == null ? logp : logp.mul(o.weight().reshape(classShape(input)));
        Tensor smooth = weighted.sum(new int[] {cd}, false).neg().maskedFill(ignore, 0.0);
        Tensor reduced = switch (o.reduction()) {
            case NONE -> smooth;
            case SUM -> smooth.sum();
            // normalized like the nll term: by the summed target weights, or by the count of targets not ignored
            case MEAN -> o.weight() == null ? smooth.sum().div(ignore.logicalNot().to(smooth.dtype()).sum())
                    : smooth.sum().div(targetWeights(o.weight(), target, o.ignoreIndex()).sum());
            case BATCH_MEAN -> throw new IllegalArgumentException("crossEntropy: reduction 'batchmean' is kl_div's only");
        };
        return nll.mul(1 - ls).add(reduced.mul(ls / classes));
    }

    /** Per-target weight: weight[target] (1 without weights), 0 where the target is ignored. */
    private static Tensor targetWeights(Tensor weight, Tensor target, long ignoreIndex) {
        Tensor ignore = target.eq((double) ignoreIndex);
        Tensor safe = Tensor.where(ignore, Tensor.zerosLike(target), target);
        Tensor w = weight.indexSelect(0, safe.reshape(-1)).reshapeAs(target);
        return w.maskedFill(ignore, 0.0);
    }

    static Tensor nllLoss(Tensor logp, Tensor target, Tensor weight, long ignoreIndex, Reduction reduction, String fn) {
        int cd = classDim(logp), classes = logp.shape(cd);
        checkTarget(fn, logp, target, classes, ignoreIndex);
        Tensor ignore = target.eq((double) ignoreIndex);
        Tensor safe = Tensor.where(ignore, Tensor.zerosLike(target), target);
        Tensor picked = logp.gather(cd, safe.unsqueeze(cd)).squeeze(cd);
        Tensor w = weight != null ? targetWeights(weight.to(logp.dtype()), target, ignoreIndex) : ignore.logicalNot().to(logp.dtype());
        Tensor loss = picked.neg().mul(w);
        if (reduction == Reduction.MEAN) return loss.sum().div(w.sum());
        return reduction.apply(loss);
    }

    /** Class-index targets: i64, the input's shape without the class dim, every value a class or ignoreIndex. */
    private static void checkTarget(String fn, Tensor input, Tensor target, int classes, long ignoreIndex) {
        if (target.dtype() != DType.INT64) {
            throw new IllegalArgumentException(fn + ": class-index target must be i64, got " + target.typeString());
        }
        int[] expected = input.data().shape(); // validation only: the sizes reach no op
        int cd = classDim(input);
        int[] want = new int[expected.length - 1];
        for (int i = 0, j = 0; i < expected.length; i++) if (i != cd) want[j++] = expected[i];
        if (!Arrays.equals(want, target.data().shape())) {
            throw new IllegalArgumentException(fn + ": target " + target.typeString() + " must have shape " + Arrays.toString(want)
                    + " for input " + input.typeString());
        }
        long[] labels = ValidationReads.longValues(target);
        for (int i = 0; i < labels.length; i++) {
            long l = labels[i];
            if (l != ignoreIndex && (l < 0 || l >= classes)) {
                throw new IllegalArgumentException(fn + ": target label " + l + " (at flat position " + i + ") is out of range for "
                        + classes + " classes (valid labels are 0.." + (classes - 1) + ", or ignoreIndex " + ignoreIndex + ")");
            }
        }
    }

    static Tensor mse(Tensor input, Tensor target, Reduction r) {
        Tensor d = input.sub(target);
        return r.apply(d.mul(d));
    }

    static Tensor l1(Tensor input, Tensor target, Reduction r) { return r.apply(input.sub(target).abs()); }

    static Tensor smoothL1(Tensor input, Tensor target, Reduction r, double beta) {
        if (beta < 0) throw new IllegalArgumentException("smoothL1Loss: beta must be non-negative, got " + beta);
        Tensor d = input.sub(target), ad = d.abs();
        if (beta == 0) return r.apply(ad);
        return r.apply(Tensor.where(ad.lt(beta), d.mul(d).mul(0.5 / beta), ad.sub(0.5 * beta)));
    }

    /** 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) beyond: torch.nn.functional.huber_loss. */
    static Tensor huber(Tensor input, Tensor target, Reduction r, double delta) {
        if (!(delta > 0)) throw new IllegalArgumentException("huberLoss: delta must be positive, got " + delta);
        Tensor d = input.sub(target), ad = d.abs();
        return r.apply(Tensor.where(ad.lt(delta), d.mul(d).mul(0.5), ad.sub(0.5 * delta).mul(delta)));
    }

    /**
     * torch.nn.functional.kl_div: input holds log-probabilities; the pointwise loss is
     * target (log target - input), 0 where target is 0 (x log x -> 0), or with logTarget
     * exp(target) (target - input). BATCH_MEAN divides the sum by the batch size (dim 0) read at
     * run time, so a traced batch stays symbolic.
     */
    static Tensor klDiv(Tensor input, Tensor target, Reduction r, boolean logTarget) {
        Tensor loss;
        if (logTarget) {
            loss = target.exp().mul(target.sub(input));
        } else {
            // log of 1 where the target is 0: those terms are 0 * (0 - input) = 0, and no log(0) is taken
            Tensor positive = target.gt(0.0);
            Tensor safe = Tensor.where(positive, target, Tensor.onesLike(target));
            loss = target.mul(safe.log().sub(input));
        }
        if (r != Reduction.BATCH_MEAN) return r.apply(loss);
        if (input.dim() == 0) return loss.sum();
        return loss.sum().div(input.size(new int[] {0}).to(loss.dtype()));
    }

    /** Log terms clamped at -100 as PyTorch does, so 0 or 1 probabilities give a finite loss. */
    static Tensor bce(Tensor input, Tensor target, Tensor weight, Reduction r) {
        Tensor loss = target.mul(input.log().clampMin(-100)).add(target.rsub(1.0).mul(input.rsub(1.0).log().clampMin(-100))).neg();
        if (weight != null) loss = loss.mul(weight);
        return r.apply(loss);
    }

    /** PyTorch's stable form: (1-t)x + lw * (log(e^-m + e^(-x-m)) + m), m = max(-x, 0), lw = 1 + (posWeight-1) t. */
    static Tensor bceWithLogits(Tensor input, Tensor target, Tensor weight, Tensor posWeight, Reduction r) {
        Tensor m = input.neg().clampMin(0);
        Tensor softplusNeg = m.neg().exp().add(input.neg().sub(m).exp()).log().add(m);
        Tensor lw = posWeight == null ? null : posWeight.sub(1.0).mul(target).add(1.0);
        Tensor loss = target.rsub(1.0).mul(input).add(lw == null ? softplusNeg : lw.mul(softplusNeg));
        if (weight != null) loss = loss.mul(weight);
        return r.apply(loss);
    }
}
