package dev.kiln.tests.conformance;

import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Float64 gradcheck/gradgradcheck cases for every differentiable primitive: a couple of shapes,
 * broadcasting where the op broadcasts, and a non-contiguous (transposed) input. Inputs stay
 * away from kinks (|x| >= 0.2 for abs/relu, no ties for max, positive for log/sqrt, ...), since
 * finite differences across a kink disagree with any one-sided derivative.
 */
final class GradcheckCases {
    private GradcheckCases() {}

    /** fn receives the leaves; inputs() builds fresh leaves (gradcheck pokes them in place). */
    record Case(String name, Function<Tensor[], Tensor> fn, Supplier<Tensor[]> inputs) {}

    static final Map<Op, List<Case>> CASES = new EnumMap<>(Op.class);

    private static void add(Op op, String name, Function<Tensor[], Tensor> fn, Supplier<Tensor[]> inputs) {
        CASES.computeIfAbsent(op, o -> new ArrayList<>()).add(new Case(name, fn, inputs));
    }

    /** Uniform in [lo, hi), f64, requiring grad; seeded by the shape so every case is fixed. */
    static Tensor u(double lo, double hi, int... shape) {
        Random r = new Random(31L * java.util.Arrays.hashCode(shape) + (long) (lo * 1000) + (long) (hi * 7));
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * r.nextDouble();
        return Tensor.of(v, shape).requiresGrad(true);
    }

    /** Magnitudes in [0.2, 1.5) with random signs: away from 0 (abs, relu, sign kinks). */
    static Tensor awayFromZero(int... shape) {
        Tensor t = u(0.2, 1.5, shape);
        double[] v = t.toDoubleArray();
        for (int i = 0; i < v.length; i++) if (i % 3 != 1) v[i] = -v[i];
        return Tensor.of(v, shape).requiresGrad(true);
    }

    /** Distinct values 0.37 apart in a shuffled order: no ties for max/min/sort. */
    static Tensor distinct(int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 7) % n) * 0.37 - n * 0.15;
        return Tensor.of(v, shape).requiresGrad(true);
    }

    /** Values strictly between integers and half-integers (floor/ceil/round are flat there). */
    static Tensor offGrid(int... shape) {
        Tensor t = u(-2, 2, shape);
        double[] v = t.toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.floor(v[i]) + 0.2 + 0.1 * (i % 2);
        return Tensor.of(v, shape).requiresGrad(true);
    }

    private static Tensor[] of(Tensor... t) { return t; }

    private static Tensor tr(Tensor t) { return t.transpose(0, 1); }

    private static void unary(Op op, Function<Tensor, Tensor> f, Function<int[], Tensor> gen) {
        add(op, "2x3", in -> f.apply(in[0]), () -> of(gen.apply(new int[] {2, 3})));
        add(op, "transposed 3x2", in -> f.apply(tr(in[0])), () -> of(gen.apply(new int[] {2, 3})));
        add(op, "0-d", in -> f.apply(in[0]), () -> of(gen.apply(new int[0])));
    }

    private static void binary(Op op, java.util.function.BinaryOperator<Tensor> f, Function<int[], Tensor> genA, Function<int[], Tensor> genB) {
        add(op, "2x3 and 2x3", in -> f.apply(in[0], in[1]), () -> of(genA.apply(new int[] {2, 3}), genB.apply(new int[] {2, 3})));
        add(op, "broadcast 2x1 and 3", in -> f.apply(in[0], in[1]), () -> of(genA.apply(new int[] {2, 1}), genB.apply(new int[] {3})));
        add(op, "transposed a", in -> f.apply(tr(in[0]), in[1]), () -> of(genA.apply(new int[] {3, 2}), genB.apply(new int[] {2, 3})));
    }

    private static Function<int[], Tensor> range(double lo, double hi) { return s -> u(lo, hi, s); }

    static {
        Function<int[], Tensor> any = range(-2, 2), pos = range(0.3, 2.5), away = GradcheckCases::awayFromZero;
        unary(Op.NEG, Tensor::neg, any);
        unary(Op.ABS, Tensor::abs, away);
        unary(Op.SIGN, Tensor::sign, away);
        unary(Op.EXP, Tensor::exp, any);
        unary(Op.LOG, Tensor::log, pos);
        unary(Op.LOG1P, Tensor::log1p, range(-0.5, 2));
        unary(Op.EXPM1, Tensor::expm1, any);
        unary(Op.SQRT, Tensor::sqrt, pos);
        unary(Op.RSQRT, Tensor::rsqrt, pos);
        unary(Op.RECIPROCAL, Tensor::reciprocal, pos);
        unary(Op.SIN, Tensor::sin, any);
        unary(Op.COS, Tensor::cos, any);
        unary(Op.TANH, Tensor::tanh, any);
        unary(Op.SIGMOID, Tensor::sigmoid, any);
        unary(Op.RELU, Tensor::relu, away);
        unary(Op.GELU, Tensor::gelu, range(-3, 3));
        add(Op.GELU, "tanh approximation", in -> in[0].gelu("tanh"), () -> of(u(-3, 3, 2, 3)));
        unary(Op.SILU, Tensor::silu, any);
        unary(Op.ERF, Tensor::erf, any);
        unary(Op.FLOOR, Tensor::floor, GradcheckCases::offGrid);
        unary(Op.CEIL, Tensor::ceil, GradcheckCases::offGrid);
        unary(Op.ROUND, Tensor::round, GradcheckCases::offGrid);
        // bounds at +-0.5 and inputs on a 0.2-spaced grid offset by 0.05: never on a bound
        unary(Op.CLAMP, t -> t.clamp(-0.5, 0.5), s -> offGrid(s).mul(0.5).detach().requiresGrad(true));
        add(Op.CLAMP, "min only", in -> in[0].clampMin(0.1), () -> of(awayFromZero(2, 3)));
        // f32 is too coarse for finite differences, so the primitive runs f64 -> f64 (to() would skip it)
        unary(Op.CAST, t -> Dispatcher.apply(Op.CAST, Attrs.of("dtype", DType.FLOAT64), t), any);
        unary(Op.CLONE, Tensor::clone, any);

        binary(Op.ADD, Tensor::add, any, any);
        binary(Op.SUB, Tensor::sub, any, any);
        binary(Op.MUL, Tensor::mul, any, any);
        binary(Op.DIV, Tensor::div, any, pos);
        binary(Op.POW, Tensor::pow, pos, range(-1.5, 2));
        add(Op.POW, "scalar exponent", in -> in[0].pow(3.0), () -> of(u(-2, 2, 2, 3)));
        binary(Op.MAXIMUM, Tensor::maximum, s -> distinct(s), s -> distinct(s).mul(-0.9).add(0.05).detach().requiresGrad(true));
        binary(Op.GELU_BACKWARD, Tensor::geluBackward, any, range(-3, 3));
        binary(Op.MINIMUM, Tensor::minimum, s -> distinct(s), s -> distinct(s).mul(-0.9).add(0.05).detach().requiresGrad(true));
        Tensor cond = Tensor.of(new boolean[] {true, false, false, true, true, false}, 2, 3);
        add(Op.WHERE, "2x3", in -> Tensor.where(cond, in[0], in[1]), () -> of(u(-1, 1, 2, 3), u(-1, 1, 2, 3)));
        add(Op.WHERE, "broadcast", in -> Tensor.where(cond, in[0], in[1]), () -> of(u(-1, 1, 3), u(-1, 1, 2, 1)));
        add(Op.WHERE, "transposed", in -> Tensor.where(cond, tr(in[0]), in[1]), () -> of(u(-1, 1, 3, 2), u(-1, 1)));

        add(Op.SUM, "all", in -> in[0].sum(), () -> of(u(-1, 1, 2, 3)));
        add(Op.SUM, "dim 1 keepdim, transposed", in -> tr(in[0]).sum(new int[] {1}, true), () -> of(u(-1, 1, 3, 2)));
        add(Op.PROD, "dim 1", in -> in[0].prod(new int[] {1}, false), () -> of(awayFromZero(2, 3)));
        add(Op.PROD, "all, transposed", in -> tr(in[0]).prod(), () -> of(awayFromZero(3, 2)));
        add(Op.AMAX, "dim 0", in -> in[0].amax(new int[] {0}, false), () -> of(distinct(3, 4)));
        add(Op.AMAX, "all, transposed", in -> tr(in[0]).amax(), () -> of(distinct(3, 2)));
        add(Op.AMIN, "dim 1 keepdim", in -> in[0].amin(new int[] {1}, true), () -> of(distinct(3, 4)));
        add(Op.AMIN, "all, transposed", in -> tr(in[0]).amin(), () -> of(distinct(3, 2)));
        add(Op.CUMSUM, "dim 1", in -> in[0].cumsum(1), () -> of(u(-1, 1, 2, 3)));
        add(Op.CUMSUM, "dim 0, transposed", in -> tr(in[0]).cumsum(0), () -> of(u(-1, 1, 3, 2)));
        add(Op.SOFTMAX, "dim 1", in -> in[0].softmax(1), () -> of(u(-2, 2, 2, 3)));
        add(Op.SOFTMAX, "dim 0, transposed", in -> tr(in[0]).softmax(0), () -> of(u(-2, 2, 3, 2)));
        add(Op.LOG_SOFTMAX, "dim 1", in -> in[0].logSoftmax(1), () -> of(u(-2, 2, 2, 3)));
        add(Op.LOG_SOFTMAX, "dim 0, transposed", in -> tr(in[0]).logSoftmax(0), () -> of(u(-2, 2, 3, 2)));
        add(Op.SOFTMAX_BACKWARD, "dim 1", in -> Dispatcher.apply(Op.SOFTMAX_BACKWARD, Attrs.of("dim", 1), in[0], in[1]),
                () -> of(u(-1, 1, 2, 3), u(0.05, 0.95, 2, 3)));
        add(Op.SOFTMAX_BACKWARD, "dim 0, transposed", in -> Dispatcher.apply(Op.SOFTMAX_BACKWARD, Attrs.of("dim", 0), tr(in[0]), tr(in[1])),
                () -> of(u(-1, 1, 3, 2), u(0.05, 0.95, 3, 2)));
        add(Op.SOFTMAX_BACKWARD, "0-d", in -> Dispatcher.apply(Op.SOFTMAX_BACKWARD, Attrs.of("dim", 0), in[0], in[1]),
                () -> of(u(-1, 1), u(0.05, 0.95)));

        add(Op.MATMUL, "2-D", in -> in[0].matmul(in[1]), () -> of(u(-1, 1, 2, 3), u(-1, 1, 3, 2)));
        add(Op.MATMUL, "1-D and 2-D", in -> in[0].matmul(in[1]), () -> of(u(-1, 1, 3), u(-1, 1, 3, 2)));
        add(Op.MATMUL, "batched broadcast, transposed", in -> in[0].matmul(tr(in[1])), () -> of(u(-1, 1, 2, 2, 3), u(-1, 1, 2, 3)));
        add(Op.ADDMM, "row bias", in -> Tensor.addmm(in[0], in[1], in[2]), () -> of(u(-1, 1, 2), u(-1, 1, 3, 2), u(-1, 1, 2, 2)));
        add(Op.ADDMM, "full bias, transposed a", in -> Tensor.addmm(in[0], tr(in[1]), in[2]), () -> of(u(-1, 1, 3, 2), u(-1, 1, 2, 3), u(-1, 1, 2, 2)));

        add(Op.RESHAPE, "contiguous", in -> in[0].reshape(3, 2), () -> of(u(-1, 1, 2, 3)));
        add(Op.RESHAPE, "transposed (copies)", in -> tr(in[0]).reshape(-1), () -> of(u(-1, 1, 2, 3)));
        add(Op.PERMUTE, "3-D", in -> in[0].permute(2, 0, 1).mul(in[0].permute(2, 0, 1)), () -> of(u(-1, 1, 2, 1, 3)));
        add(Op.PERMUTE, "transpose", in -> tr(in[0]).exp(), () -> of(u(-1, 1, 2, 3)));
        add(Op.EXPAND, "new and size-1 dims", in -> in[0].expand(2, 3, 2).mul(u(-1, 1, 2, 3, 2).detach()), () -> of(u(-1, 1, 3, 1)));
        add(Op.EXPAND, "0-d", in -> in[0].expand(2, 2).exp(), () -> of(u(-1, 1)));
        add(Op.EXPAND_AS, "to a value's shape", in -> in[0].expandAs(in[1]).mul(in[1]), () -> of(u(-1, 1, 3, 1), u(-1, 1, 2, 3, 2)));
        add(Op.SLICE, "step 2", in -> in[0].slice(1, 0, 5, 2), () -> of(u(-1, 1, 2, 5)));
        add(Op.SLICE, "range, transposed", in -> tr(in[0]).slice(0, 1, 3, 1), () -> of(u(-1, 1, 2, 4)));
        add(Op.SELECT, "dim 1", in -> in[0].select(1, -1), () -> of(u(-1, 1, 2, 3)));
        add(Op.SELECT, "dim 0, transposed", in -> tr(in[0]).select(0, 1), () -> of(u(-1, 1, 2, 3)));
        add(Op.SQUEEZE, "all", in -> in[0].squeeze().exp(), () -> of(u(-1, 1, 1, 3, 1)));
        add(Op.SQUEEZE, "one dim", in -> in[0].squeeze(0).exp(), () -> of(u(-1, 1, 1, 3)));
        add(Op.UNSQUEEZE, "middle", in -> in[0].unsqueeze(1).exp(), () -> of(u(-1, 1, 2, 3)));
        add(Op.UNSQUEEZE, "transposed", in -> tr(in[0]).unsqueeze(-1).exp(), () -> of(u(-1, 1, 2, 3)));
        add(Op.FLATTEN, "all", in -> in[0].flatten().exp(), () -> of(u(-1, 1, 2, 3)));
        add(Op.FLATTEN, "transposed", in -> tr(in[0]).flatten().exp(), () -> of(u(-1, 1, 2, 3)));
        add(Op.UNFLATTEN, "inferred", in -> in[0].unflatten(1, 2, -1).exp(), () -> of(u(-1, 1, 3, 6)));
        add(Op.UNFLATTEN, "transposed", in -> tr(in[0]).unflatten(-1, 3, 1).exp(), () -> of(u(-1, 1, 3, 2)));

        add(Op.CAT, "dim 0", in -> Tensor.cat(0, in[0], in[1]), () -> of(u(-1, 1, 2, 3), u(-1, 1, 1, 3)));
        add(Op.CAT, "dim 1, transposed", in -> Tensor.cat(1, tr(in[0]), in[1]), () -> of(u(-1, 1, 2, 3), u(-1, 1, 3, 2)));
        add(Op.PAD, "constant", in -> in[0].pad(new int[] {1, 2}, "constant", 0.5), () -> of(u(-1, 1, 2, 3)));
        add(Op.PAD, "reflect", in -> in[0].pad(new int[] {2, 1}, "reflect", 0), () -> of(u(-1, 1, 2, 4)));
        add(Op.PAD, "replicate, transposed", in -> tr(in[0]).pad(new int[] {1, 2, 1, 0}, "replicate", 0), () -> of(u(-1, 1, 3, 2)));
        Tensor idx = Tensor.of(new long[] {2, 0, 2}, 3);
        add(Op.INDEX_SELECT, "repeated index", in -> in[0].indexSelect(0, idx), () -> of(u(-1, 1, 3, 2)));
        add(Op.INDEX_SELECT, "transposed", in -> tr(in[0]).indexSelect(1, idx), () -> of(u(-1, 1, 3, 2)));
        Tensor gi = Tensor.of(new long[] {0, 2, 1, 1}, 2, 2);
        add(Op.GATHER, "dim 1", in -> in[0].gather(1, gi), () -> of(u(-1, 1, 2, 3)));
        add(Op.GATHER, "transposed", in -> tr(in[0]).gather(1, gi), () -> of(u(-1, 1, 3, 2)));
        Tensor si = Tensor.of(new long[] {0, 1, 0, 2, 2, 2}, 2, 3);
        add(Op.SCATTER_ADD, "duplicates", in -> in[0].scatterAdd(0, si, in[1]), () -> of(u(-1, 1, 3, 3), u(-1, 1, 2, 3)));
        add(Op.SCATTER_ADD, "transposed self", in -> tr(in[0]).scatterAdd(0, si, in[1]), () -> of(u(-1, 1, 3, 3), u(-1, 1, 2, 3)));
        add(Op.TRIL, "diagonal 0", in -> in[0].tril(), () -> of(u(-1, 1, 3, 3)));
        add(Op.TRIL, "diagonal -1, transposed", in -> tr(in[0]).tril(-1), () -> of(u(-1, 1, 3, 2)));
        add(Op.TRIU, "diagonal 1", in -> in[0].triu(1), () -> of(u(-1, 1, 2, 3)));
        add(Op.TRIU, "batched", in -> in[0].triu(), () -> of(u(-1, 1, 2, 2, 2)));
        add(Op.FLIP, "both dims", in -> in[0].flip(0, 1), () -> of(u(-1, 1, 2, 3)));
        add(Op.FLIP, "transposed", in -> tr(in[0]).flip(-1), () -> of(u(-1, 1, 2, 3)));
        add(Op.REPEAT, "2-D", in -> in[0].repeat(2, 2), () -> of(u(-1, 1, 2, 3)));
        add(Op.REPEAT, "new leading dim, transposed", in -> tr(in[0]).repeat(2, 1, 2), () -> of(u(-1, 1, 2, 2)));
    }
}
