package dev.kiln.examples.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.AdamW;
import dev.kiln.eager.random.Generator;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedStep;
import dev.kiln.tracer.Tracer;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPT demo's model: against PyTorch's torch_gpt.py model (tests/tools/gen_gpt_fixture.py:
 * logits, loss and every gradient from its state dict), and the demo's pipeline at a small size:
 * a few AdamW steps lower the loss; the traced, exported and reloaded artifact equals eager at
 * other batch sizes and lengths, and generates the same characters.
 */
class CharGptTest {
    static Tensor tensor(JsonNode n) {
        int[] shape = new int[n.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = n.get("shape").get(i).asInt();
        JsonNode d = n.get("data");
        return switch (n.get("dtype").asText()) {
            case "i64" -> {
                long[] v = new long[d.size()];
                for (int i = 0; i < v.length; i++) v[i] = d.get(i).asLong();
                yield Tensor.of(v, shape);
            }
            case "bool" -> {
                boolean[] v = new boolean[d.size()];
                for (int i = 0; i < v.length; i++) v[i] = d.get(i).asBoolean();
                yield Tensor.of(v, shape);
            }
            default -> {
                double[] v = new double[d.size()];
                for (int i = 0; i < v.length; i++) v[i] = d.get(i).asDouble();
                yield Tensor.of(v, shape);
            }
        };
    }

    static void close(String what, Tensor want, Tensor got, double tol) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        double[] e = want.toDoubleArray(), a = got.to(DType.FLOAT64).contiguous().toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            int k = i;
            assertTrue(Math.abs(e[i] - a[i]) <= tol * (1 + Math.abs(e[i])), () -> what + " element " + k + ": PyTorch " + e[k] + ", Kiln " + a[k]);
        }
    }

    @Test
    void matchesTheTorchGptModelWithItsStateDict() throws Exception {
        JsonNode f;
        try (InputStream in = CharGptTest.class.getResourceAsStream("/gpt/tiny_gpt.json")) {
            f = new ObjectMapper().readTree(in);
        }
        JsonNode s = f.get("sizes");
        CharGpt m = new CharGpt(s.get("vocab").asInt(), s.get("context").asInt(), s.get("layers").asInt(), s.get("heads").asInt(), s.get("width").asInt());
        Map<String, Tensor> sd = new LinkedHashMap<>();
        f.get("state").fields().forEachRemaining(e -> {
            // head.weight is tok.weight (tied); the causal mask buffers are computed from the input instead
            if (!e.getKey().equals("head.weight") && !e.getKey().endsWith(".mask")) sd.put(e.getKey(), tensor(e.getValue()).to(DType.FLOAT32));
        });
        assertTrue(m.loadStateDict(sd, true).clean());
        Tensor logits = m.call(tensor(f.get("idx")));
        close("logits", tensor(f.get("logits")), logits, 2e-5);
        Tensor loss = F.crossEntropy(logits.reshape(-1, m.vocab), tensor(f.get("targets")).reshape(-1));
        assertEquals(f.get("loss").asDouble(), loss.item(), 2e-5 * (1 + Math.abs(f.get("loss").asDouble())));
        loss.backward();
        Map<String, Tensor> params = m.namedParameters();
        assertEquals(f.get("grads").size(), params.size(), "PyTorch's parameters (head.weight being tok.weight) are Kiln's");
        f.get("grads").fields().forEachRemaining(e -> close("gradient of " + e.getKey(), tensor(e.getValue()), params.get(e.getKey()).grad(), 1e-4));
    }

    @Test
    void trainsTracesExportsReloadsAndGeneratesAsEager(@TempDir Path dir) throws Exception {
        Kiln.manualSeed(3);
        CharCorpus corpus = CharCorpus.load(dir.resolve("no-fortunes-here")); // the built-in text
        int context = 32;
        CharGpt m = new CharGpt(corpus.vocabSize(), context, 2, 2, 32);
        AdamW opt = GptDemo.optimizer(m);
        Generator g = new Generator(5);
        double first = 0, last = 0;
        for (int step = 0; step < 12; step++) {
            double l = GptDemo.trainStep(m, opt, GptDemo.batch(corpus.train, 8, context, g));
            if (step == 0) first = l;
            last = l;
        }
        assertTrue(last < first * 0.8, "loss " + first + " -> " + last);

        m.eval();
        Graph traced;
        try (var ng = Autograd.noGrad()) {
            traced = Tracer.trace(m, new Tensor[] {GptDemo.batch(corpus.val, 2, 16, new Generator(2)).x()},
                    TraceOptions.builder().name("char_gpt").dynamic(0, 0, "B").dynamic(0, 1, "T").inputNames("ids").build());
        }
        assertEquals("i64[B,T]", traced.inputs().get(0).type().toString());
        assertEquals("f32[B,T," + corpus.vocabSize() + "]", traced.typeOf(traced.outputs().get(0)).toString());
        assertTrue(traced.guards().isEmpty(), "nothing baked in: " + traced.guards());
        Path file = dir.resolve("gpt.kiln.json");
        KilnWriter.save(traced, file, KilnWriter.Weights.SIDECAR);
        CompiledGraph compiled = CompiledGraph.compile(KilnReader.load(file), CompileOptions.of(OptLevel.O2));
        Function<Tensor, Tensor> artifact = ids -> Tensor.wrap(compiled.run(List.of(ids.data())).get(0));
        Function<Tensor, Tensor> eager = ids -> {
            try (var ng = Autograd.noGrad()) {
                return m.call(ids);
            }
        };
        for (int[] bt : new int[][] {{1, 1}, {1, 2}, {3, 17}, {4, context}}) {
            Tensor ids = GptDemo.batch(corpus.val, bt[0], bt[1], new Generator(bt[0] * 100L + bt[1])).x();
            assertTrue(artifact.apply(ids).allclose(eager.apply(ids), 1e-4, 1e-4), "B=" + bt[0] + ", T=" + bt[1]);
        }
        long[] prompt = {corpus.encode('T')};
        assertArrayEquals(GptDemo.generate(eager, prompt, 40, context, 0, null), GptDemo.generate(artifact, prompt, 40, context, 0, null),
                "greedy text, beyond the context length");
        assertArrayEquals(GptDemo.generate(eager, prompt, 40, context, 0.8, new Generator(9)), GptDemo.generate(artifact, prompt, 40, context, 0.8, new Generator(9)),
                "sampled text with one seed");
    }

    /**
     * The demo's training step (AdamW with its two groups, grad-norm clipping) through
     * Tracer.traceStep: on new batches the traced step gives eager's loss and parameters, step after
     * step. AdamW's bias correction depends on the step count and the clipping on the gradient
     * norm; either baked in as a constant would drift from eager within these steps (the large
     * learning rate makes a step's size show in the parameters, and the clipping is active at
     * every compared step, with a factor that changes from step to step).
     */
    /**
     * The demo's own model (4 blocks of width 128, context 128) at the harness's batch size plus
     * one (33 x 128 = 4224 rows, off every split boundary): the traced, compiled step (fused
     * layer_norm and gelu_backward, the split's gradient as a cat, GEMM steps with epilogues)
     * against eager, on a batch it was not traced on.
     */
    @Test
    void theDemosTrainingStepAtFullSizeTracesAsEager(@TempDir Path dir) throws Exception {
        CharCorpus corpus = CharCorpus.load(dir.resolve("no-fortunes-here"));
        Function<CharGpt, Function<Tensor[], Tensor>> step = m -> GptDemo.step(m, GptDemo.optimizer(m));
        Generator g = new Generator(5);
        GptDemo.Batch example = GptDemo.batch(corpus.train, 33, GptDemo.CONTEXT, g);
        Tensor[] exampleXy = {example.x(), example.y()};
        Kiln.manualSeed(4);
        CharGpt eager = GptDemo.model(corpus.vocabSize());
        Function<Tensor[], Tensor> eagerStep = step.apply(eager);
        Kiln.manualSeed(4);
        CharGpt twin = GptDemo.model(corpus.vocabSize());
        TracedStep traced = Tracer.traceStep(step.apply(twin), exampleXy,
                TraceOptions.builder().name("gpt_train_step_full").params(twin.namedParameters()).build());
        eagerStep.apply(exampleXy);
        eagerStep.apply(exampleXy);
        GptDemo.Batch b = GptDemo.batch(corpus.train, 33, GptDemo.CONTEXT, g);
        Tensor[] xy = {b.x(), b.y()};
        double want = eagerStep.apply(xy).item(), got = traced.run(xy).item();
        assertEquals(want, got, 1e-4 * (1 + Math.abs(want)), "loss of step 3");
        for (Map.Entry<String, Tensor> p : eager.namedParameters().entrySet()) {
            Tensor w = p.getValue(), t = traced.parameter(p.getKey());
            assertTrue(t.allclose(w, 1e-3, 1e-4), () -> p.getKey() + " after 3 steps: max |traced - eager| = " + t.sub(w).abs().max().item());
        }
    }

    @Test
    void theTrainingStepWithAdamWAndClippingTracesAndTrainsAsEager(@TempDir Path dir) throws Exception {
        CharCorpus corpus = CharCorpus.load(dir.resolve("no-fortunes-here"));
        int context = 16;
        double maxNorm = 0.05;
        Function<CharGpt, Function<Tensor[], Tensor>> step = m -> GptDemo.step(m, GptDemo.optimizer(m, 0.03), maxNorm);
        Generator g = new Generator(11);
        GptDemo.Batch example = GptDemo.batch(corpus.train, 4, context, g);
        Tensor[] exampleXy = {example.x(), example.y()};

        Kiln.manualSeed(8);
        CharGpt eager = new CharGpt(corpus.vocabSize(), context, 2, 2, 32);
        Function<Tensor[], Tensor> eagerStep = step.apply(eager);
        Kiln.manualSeed(8);
        CharGpt twin = new CharGpt(corpus.vocabSize(), context, 2, 2, 32);
        TracedStep traced = Tracer.traceStep(step.apply(twin), exampleXy,
                TraceOptions.builder().name("gpt_train_step").params(twin.namedParameters()).build());
        assertTrue(traced.graph().guards().isEmpty(), "nothing baked in: " + traced.graph().guards());
        // traceStep ran the step twice on the example: the eager model does the same
        eagerStep.apply(exampleXy);
        eagerStep.apply(exampleXy);
        double firstLoss = Double.NaN, lastLoss = Double.NaN;
        for (int i = 0; i < 6; i++) {
            GptDemo.Batch b = GptDemo.batch(corpus.train, 4, context, g);
            Tensor[] xy = {b.x(), b.y()};
            double want = eagerStep.apply(xy).item(), got = traced.run(xy).item();
            assertEquals(want, got, 1e-4 * (1 + Math.abs(want)), "loss of step " + (i + 3));
            double clipped = 0;
            for (Tensor p : eager.parameters()) clipped += p.grad().mul(p.grad()).sum().item();
            assertEquals(maxNorm, Math.sqrt(clipped), 1e-3 * maxNorm, "the step clipped its gradients (their joint norm is maxNorm)");
            if (i == 0) firstLoss = want;
            lastLoss = want;
        }
        assertTrue(lastLoss < firstLoss, "training lowers the loss: " + firstLoss + " -> " + lastLoss);
        for (Map.Entry<String, Tensor> p : eager.namedParameters().entrySet()) {
            Tensor want = p.getValue(), got = traced.parameter(p.getKey());
            assertTrue(got.allclose(want, 1e-3, 1e-4), () -> p.getKey() + " after 8 steps: max |traced - eager| = " + got.sub(want).abs().max().item());
        }
    }

    @Test
    void aKeyValueCacheGivesTheSameLogitsEagerAndTracedWithTheCacheLengthSymbolic(@TempDir Path dir) throws Exception {
        Kiln.manualSeed(4);
        CharCorpus corpus = CharCorpus.load(dir.resolve("no-fortunes-here"));
        int context = 40;
        CharGpt m = new CharGpt(corpus.vocabSize(), context, 2, 2, 32);
        m.eval();
        Tensor ids = GptDemo.batch(corpus.val, 3, 30, new Generator(6)).x(); // [3, 30]
        Tensor full;
        try (var ng = Autograd.noGrad()) {
            full = m.call(ids); // [3, 30, V], no cache
            // prefill 17 positions, then 1, then 12 more, attending to the cache
            Tensor[] zero = {Tensor.of(new long[] {0}).reshape(), Tensor.of(new long[] {17}).reshape(), Tensor.of(new long[] {18}).reshape()};
            CharGpt.Step a = m.forward(ids.narrow(1, 0, 17), zero[0], m.emptyCache(3), m.emptyCache(3));
            CharGpt.Step b = m.forward(ids.narrow(1, 17, 1), zero[1], a.keys(), a.values());
            CharGpt.Step c = m.forward(ids.narrow(1, 18, 12), zero[2], b.keys(), b.values());
            Tensor stitched = Tensor.cat(1, a.logits(), b.logits(), c.logits());
            assertTrue(stitched.allclose(full, 1e-5, 1e-5), "cached logits equal the full forward's");
            assertEquals("f32[3,2,40,16]", c.keys().get(1).typeString());
        }
        Graph step = GptDemo.traceStep(m, m.layers());
        assertEquals("i64[B,T]", step.inputs().get(0).type().toString());
        assertEquals("i64[]", step.inputs().get(1).type().toString());
        assertEquals("f32[B,2,C,16]", step.inputs().get(2).type().toString());
        assertEquals("f32[B,2,C,16]", step.typeOf(step.outputs().get(1)).toString());
        assertTrue(step.guards().isEmpty(), "nothing baked in: " + step.guards());
        Path file = dir.resolve("gpt-step.kiln.json");
        KilnWriter.save(step, file, KilnWriter.Weights.SIDECAR);
        GptDemo.CachedStep traced = GptDemo.compiledStep(CompiledGraph.compile(KilnReader.load(file), CompileOptions.of(OptLevel.O2)), m.layers());
        // the prefill from an empty cache (P = 0), then one token at a time (T = 1)
        CharGpt.Step s = traced.apply(ids.narrow(1, 0, 17), 0, m.emptyCache(3), m.emptyCache(3));
        assertTrue(s.logits().allclose(full.narrow(1, 0, 17), 1e-4, 1e-4), "traced prefill");
        for (int t = 17; t < 30; t++) {
            s = traced.apply(ids.narrow(1, t, 1), t, s.keys(), s.values());
            assertTrue(s.logits().allclose(full.narrow(1, t, 1), 1e-4, 1e-4), "traced step at position " + t);
        }
        // the cache length is the caller's: the same steps with a 30-slot cache, just what they fill
        List<Tensor> short30 = new java.util.ArrayList<>();
        for (int l = 0; l < m.layers(); l++) short30.add(Tensor.zeros(3, 2, 30, 16));
        s = traced.apply(ids.narrow(1, 0, 17), 0, short30, short30);
        assertEquals("f32[3,2,30,16]", s.keys().get(0).typeString());
        assertTrue(s.logits().allclose(full.narrow(1, 0, 17), 1e-4, 1e-4), "traced prefill into 30 slots");
        for (int t = 17; t < 30; t++) {
            s = traced.apply(ids.narrow(1, t, 1), t, s.keys(), s.values());
            assertTrue(s.logits().allclose(full.narrow(1, t, 1), 1e-4, 1e-4), "30 slots: traced step at position " + t);
        }
        // a 31st position does not fit in 30 slots: an error naming it, traced and eager, not a dropped key
        CharGpt.Step full30 = s;
        RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> traced.apply(ids.narrow(1, 0, 1), 30, full30.keys(), full30.values()));
        assertTrue(String.valueOf(e.getMessage()).contains("index 30 is out of range"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> GptDemo.eagerStep(m).apply(ids.narrow(1, 0, 1), 30, full30.keys(), full30.values()));
        assertTrue(String.valueOf(e.getMessage()).contains("index 30 is out of range"), e.getMessage());
        // nor does a negative start wrap around to the last slot
        e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> traced.apply(ids.narrow(1, 0, 1), -1, full30.keys(), full30.values()));
        assertTrue(String.valueOf(e.getMessage()).contains("index -31 is out of range"), e.getMessage());
        // greedy text: the same with and without the cache while it fits in the context
        long[] prompt = {corpus.encode('T'), corpus.encode('h')};
        Function<Tensor, Tensor> eager = x -> {
            try (var ng = Autograd.noGrad()) {
                return m.call(x);
            }
        };
        long[] plain = GptDemo.generate(eager, prompt, context - 2, context, 0, null);
        long[] cached = GptDemo.generateCached(traced, m.emptyCache(1), prompt, context - 2, context, 0, null);
        assertArrayEquals(plain, cached, "greedy text with and without the cache");
        assertArrayEquals(plain, GptDemo.generateCached(GptDemo.eagerStep(m), m.emptyCache(1), prompt, context - 2, context, 0, null), "eager, cached");
        // past the context the cache is re-encoded from the last half context: it keeps generating
        assertEquals(prompt.length + 3 * context, GptDemo.generateCached(traced, m.emptyCache(1), prompt, 3 * context, context, 0.8, new Generator(3)).length);
    }
}
