package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.Kiln;
import dev.kiln.eager.Device;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.BatchNorm2d;
import dev.kiln.eager.nn.Conv2d;
import dev.kiln.eager.nn.Embedding;
import dev.kiln.eager.nn.LayerNorm;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.AdamW;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The op families as users meet them, trained on cuda:0 and on the CPU from the same
 * start: convolution, batch norm (batch statistics and running buffers), max pooling, embedding,
 * layer norm, cross-entropy and MSE losses, SGD with momentum and AdamW. Skipped without a GPU.
 */
class CudaModulesGpuTest {
    Device gpu;

    @BeforeEach
    void needGpu() { gpu = GpuChecks.gpu(); }

    /** Images through conv/batch-norm/pool, token ids through embedding/layer-norm, summed logits. */
    static final class ImageAndText extends Module {
        final Conv2d conv = registerModule("conv", new Conv2d(3, 8, 3, 1, 1));
        final BatchNorm2d bn = registerModule("bn", new BatchNorm2d(8));
        final Embedding emb = registerModule("emb", new Embedding(20, 8));
        final LayerNorm ln = registerModule("ln", new LayerNorm(8));
        final Linear image = registerModule("image", new Linear(128, 10));
        final Linear text = registerModule("text", new Linear(8, 10));

        @Override
        public Tensor forward(Tensor... in) {
            Tensor h = F.maxPool2d(bn.call(conv.call(in[0])).relu(), 2).flatten(1);
            Tensor e = ln.call(emb.call(in[1])).mean(1);
            return image.call(h).add(text.call(e));
        }
    }

    /** Three SGD-momentum steps; the parameters and batch-norm buffers afterwards, in registration order. */
    private static List<float[]> trainImageAndText(Device d) {
        Kiln.manualSeed(31);
        ImageAndText m = new ImageAndText();
        m.to(d);
        Optimizer opt = SGD.builder(m.parameters()).lr(0.05).momentum(0.9).build();
        Tensor x = Tensor.randn(6, 3, 8, 8).to(d), tokens = Tensor.randint(0, 20, 6, 5).to(d);
        Tensor y = Tensor.randint(0, 10, 6).to(d), target = Tensor.randn(6, 10).mul(0.5).to(d);
        for (int step = 0; step < 3; step++) {
            opt.zeroGrad();
            Tensor logits = m.call(x, tokens);
            F.crossEntropy(logits, y).add(F.mseLoss(logits.tanh(), target).mul(0.1)).backward();
            opt.step();
        }
        List<float[]> out = new ArrayList<>();
        for (Tensor p : m.parameters()) out.add(p.toFloatArray());
        for (Tensor b : m.buffers()) if (b.dtype().isFloatingPoint()) out.add(b.toFloatArray());
        return out;
    }

    @Test
    void convBatchNormEmbeddingLayerNormAndLossesTrainLikeTheCpu() {
        assertClose(trainImageAndText(Device.cpu()), trainImageAndText(gpu), 1e-3);
    }

    /** Five AdamW steps on a least-squares problem (large gradients: Adam's sign-like first steps stay stable). */
    private static List<float[]> adamW(Device d) {
        Kiln.manualSeed(32);
        Tensor a = Tensor.randn(40, 12).to(d), b = Tensor.randn(40).to(d);
        Tensor w = Tensor.randn(12).to(d).requiresGrad(true);
        Optimizer opt = AdamW.builder(List.of(w)).lr(0.05).weightDecay(0.1).build();
        for (int step = 0; step < 5; step++) {
            opt.zeroGrad();
            Tensor r = a.matmul(w).sub(b);
            r.mul(r).sum().backward();
            opt.step();
        }
        return List.of(w.toFloatArray());
    }

    @Test
    void adamWMatchesTheCpu() {
        assertClose(adamW(Device.cpu()), adamW(gpu), 1e-4);
    }

    private static void assertClose(List<float[]> cpu, List<float[]> cuda, double tol) {
        assertEquals(cpu.size(), cuda.size());
        for (int t = 0; t < cpu.size(); t++) GpuChecks.assertClose(cpu.get(t), cuda.get(t), tol, "tensor " + t);
    }
}
