package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.SGD;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A whole training step (embedding, attention, 3-D linear layers, cross-entropy, SGD) traced with
 * the batch and the sequence length both dynamic: the backward pass keeps both symbolic (gradient
 * rules reshape to the input's symbolic sizes, squeeze and unsqueeze instead of reshaping to
 * recorded numbers), and one traced step equals eager steps at other (B, T).
 */
class AttentionTrainStepTest {
    static final int V = 11, C = 8, H = 2, D = C / H;

    static final class Model {
        final Map<String, Tensor> params = new LinkedHashMap<>();

        Model(long seed) {
            Kiln.manualSeed(seed);
            params.put("emb", Tensor.randn(V, C).mul(0.5).requiresGrad(true));
            params.put("wqkv", Tensor.randn(3 * C, C).mul(0.3).requiresGrad(true));
            params.put("head", Tensor.randn(V, C).mul(0.3).requiresGrad(true));
        }

        Tensor loss(Tensor tokens, Tensor targets) {
            Tensor x = F.embedding(tokens, params.get("emb"));                              // [B, T, C]
            Tensor qkv = F.linear(x, params.get("wqkv"), null);                             // [B, T, 3C]
            Tensor q = heads(qkv.narrow(2, 0, C)), k = heads(qkv.narrow(2, C, C)), v = heads(qkv.narrow(2, 2 * C, C));
            Tensor att = q.matmul(k.transpose(-2, -1)).mul(1.0 / Math.sqrt(D)).softmax(-1);
            Tensor y = x.add(att.matmul(v).transpose(1, 2).flatten(2));                    // [B, T, C]
            Tensor logits = F.linear(y, params.get("head"), null);                         // [B, T, V]
            return F.crossEntropy(logits.flatten(0, 1), targets.flatten());
        }

        static Tensor heads(Tensor t) { return t.unflatten(-1, H, D).transpose(1, 2); }

        Function<Tensor[], Tensor> step(Optimizer opt) {
            return in -> {
                opt.zeroGrad();
                Tensor l = loss(in[0], in[1]);
                l.backward();
                opt.step();
                return l;
            };
        }
    }

    @Test
    void aTracedAttentionStepRunsAtEveryBatchAndLength() {
        Model ref = new Model(3), traced = new Model(3);
        Optimizer ro = SGD.builder(List.copyOf(ref.params.values())).lr(0.1).momentum(0.9).build();
        Optimizer to = SGD.builder(List.copyOf(traced.params.values())).lr(0.1).momentum(0.9).build();
        Tensor[] first = {Tensor.randint(0, V, 2, 5), Tensor.randint(0, V, 2, 5)};
        for (int i = 0; i < 2; i++) { // traceStep runs the step twice on its example
            ro.zeroGrad();
            ref.loss(first[0], first[1]).backward();
            ro.step();
        }
        TracedStep ts = Tracer.traceStep(traced.step(to), first, TraceOptions.builder().name("attn_step")
                .dynamic(0, 0, "B").dynamic(0, 1, "T").dynamic(1, 0, "B").dynamic(1, 1, "T").params(traced.params).build());
        for (int[] bt : new int[][] {{3, 7}, {1, 2}, {4, 16}}) {
            Tensor tokens = Tensor.randint(0, V, bt[0], bt[1]), targets = Tensor.randint(0, V, bt[0], bt[1]);
            ro.zeroGrad();
            Tensor want = ref.loss(tokens, targets);
            want.backward();
            ro.step();
            Tensor got = ts.run(tokens, targets);
            assertTrue(got.allclose(want, 1e-5, 1e-5), "loss at B=" + bt[0] + " T=" + bt[1] + ": " + got + " vs " + want);
        }
        for (String name : ref.params.keySet()) assertTrue(ts.parameter(name).allclose(ref.params.get(name), 1e-5, 1e-5), name);
    }
}
