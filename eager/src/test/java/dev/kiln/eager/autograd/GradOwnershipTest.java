package dev.kiln.eager.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A leaf keeps a gradient as its .grad without copying only when nothing else can see that
 * tensor; every case below would show a changed value if a shared gradient were kept.
 */
class GradOwnershipTest {
    @Test
    void leavesThatReceiveOneSharedGradientGetSeparateGrads() {
        Tensor a = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor b = Tensor.of(new float[] {3, 4}, 2).requiresGrad(true);
        a.add(b).backward(Tensor.of(new float[] {5, 6}, 2)); // add hands one gradient to both
        try (var ng = Autograd.noGrad()) {
            a.grad().mul_(10.0);
        }
        assertArrayEquals(new float[] {50, 60}, a.grad().toFloatArray());
        assertArrayEquals(new float[] {5, 6}, b.grad().toFloatArray());
    }

    @Test
    void theUsersSeedIsNeverTheGrad() {
        Tensor a = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor seed = Tensor.of(new float[] {7, 8}, 2);
        a.mul(1.0).backward(seed); // mul's rule makes a new tensor; a plain view chain would pass the seed through
        Tensor b = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        b.reshape(2, 1).backward(Tensor.of(new float[] {7, 8}, 2, 1)); // reshape's gradient is a view of the seed
        try (var ng = Autograd.noGrad()) {
            b.grad().add_(1.0);
            a.grad().add_(1.0);
        }
        assertArrayEquals(new float[] {7, 8}, seed.toFloatArray());
        assertArrayEquals(new float[] {8, 9}, b.grad().toFloatArray());
    }

    @Test
    void aGradientAHookSawIsCopied() {
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor x = Tensor.of(new float[] {1, 1, 1, 1}, 2, 2);
        List<Tensor> seen = new ArrayList<>();
        w.registerHook(g -> {
            seen.add(g);
            return null;
        });
        x.matmul(w).sum().backward();
        try (var ng = Autograd.noGrad()) {
            w.grad().mul_(0.0);
        }
        assertArrayEquals(new float[] {2, 2, 2, 2}, seen.get(0).toFloatArray());
    }

    @Test
    void keptGradientsStillAccumulateAndStayCorrect() {
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        x.matmul(w).sum().backward();
        Tensor first = w.grad();
        float[] once = first.toFloatArray();
        x.matmul(w).sum().backward();
        assertArrayEquals(new float[] {4, 4, 6, 6}, once);
        assertArrayEquals(new float[] {8, 8, 12, 12}, w.grad().toFloatArray());
        assertArrayEquals(new float[] {4, 4, 6, 6}, first.toFloatArray(), "accumulation is out of place");
    }

    @Test
    void aViewOfAGradientAHookSawIsCopiedButAViewOfAFreshOneIsKept() {
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor c = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor v = w.t();
        List<Tensor> seen = new ArrayList<>();
        v.registerHook(g -> {
            seen.add(g);
            return null;
        });
        v.mul(c).sum().backward(); // v's gradient is c; w's is its transpose, a view of what the hook holds
        try (var ng = Autograd.noGrad()) {
            w.grad().mul_(0.0);
        }
        assertArrayEquals(new float[] {1, 2, 3, 4}, seen.get(0).toFloatArray());

        Tensor u = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        u.t().mul(c).sum().backward(); // no hook: the transposed product is u's alone
        assertArrayEquals(new float[] {1, 3, 2, 4}, u.grad().toFloatArray());
    }

    /** A custom Function whose backward hands back a tensor the user holds (gradient routing). */
    static final class Inject extends Function {
        final List<Tensor> holder;

        Inject(List<Tensor> holder) { this.holder = holder; }

        @Override
        protected Tensor forward(FunctionCtx ctx, Tensor... in) { return in[0].mul(1.0); }

        @Override
        protected Tensor[] backward(FunctionCtx ctx, Tensor g) { return new Tensor[] {holder.get(0)}; }
    }

    @Test
    void aGradientALeafHookKeptIsNotAnotherLeafsGrad() {
        Tensor w1 = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor w2 = Tensor.of(new float[] {3, 4}, 2).requiresGrad(true);
        List<Tensor> seen = new ArrayList<>();
        Tensor injected = new Inject(seen).apply(w2); // older than w1's accumulator, so its backward runs after the hook
        w1.registerHook(g -> {
            seen.add(g);
            return null;
        });
        injected.sum().add(w1.mul(3.0).sum()).backward();
        assertArrayEquals(new float[] {3, 3}, w2.grad().toFloatArray());
        try (var ng = Autograd.noGrad()) {
            w2.grad().mul_(0.0);
        }
        assertArrayEquals(new float[] {3, 3}, seen.get(0).toFloatArray(), "w2.grad shares storage with the hook's tensor");
    }

    @Test
    void aGradientANonLeafHookReplacedIsNotKeptByALeaf() {
        Tensor w1 = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor w2 = Tensor.of(new float[] {3, 4}, 2).requiresGrad(true);
        List<Tensor> seen = new ArrayList<>();
        Tensor injected = new Inject(seen).apply(w2);
        Tensor v = w1.mul(3.0);
        v.registerHook(g -> {
            seen.add(g);
            return g.mul(2.0);
        });
        injected.sum().add(v.mul(v).sum()).backward();
        float[] before = seen.get(0).toFloatArray();
        try (var ng = Autograd.noGrad()) {
            w2.grad().add_(100.0);
        }
        assertArrayEquals(before, seen.get(0).toFloatArray(), "w2.grad shares storage with the hook's tensor");
        assertNotSame(seen.get(0), w2.grad());
    }
}
