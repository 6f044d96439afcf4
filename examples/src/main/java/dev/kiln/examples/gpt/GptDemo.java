package dev.kiln.examples.gpt;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.AdamW;
import dev.kiln.eager.optim.ClipGrad;
import dev.kiln.eager.optim.ParamGroup;
import dev.kiln.eager.random.Generator;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code kiln demo gpt}: the character-level GPT of ../shared/bench/torch_gpt.py, trained eagerly
 * on the fortunes corpus with the same model, split and hyper-parameters (context 128, 4 layers,
 * 4 heads, width 128, batch 32, AdamW lr 1e-3, betas (0.9, 0.95), weight decay 0.1 on matrices
 * only, grad-norm clip 1.0), then traced with the batch and the sequence length symbolic,
 * exported, reloaded without the model code and compiled; text is generated from the artifact
 * (greedy and temperature sampling, seeded) and the greedy text is checked against eager's.
 */
public final class GptDemo {
    private GptDemo() {}

    public static final int CONTEXT = 128, LAYERS = 4, HEADS = 4, WIDTH = 128;

    /** Options of {@code kiln demo gpt}. */
    public record Options(Path data, int steps, int batchSize, long seed, int generate, double temperature, Path out) {
        public static Options defaults() { return new Options(null, 300, 32, 0, 300, 0.8, Path.of("checkpoints")); }
    }

    /** A training batch: inputs and next-character targets, each [B, T]. */
    /** Input ids and the next characters, [B, T] each. */
    public record Batch(Tensor x, Tensor y) {}

    /** B windows of T+1 characters at starts drawn uniformly from the source. */
    public static Batch batch(long[] src, int b, int t, Generator g) {
        long[] starts = g.integers(b, 0, src.length - t - 1);
        long[] x = new long[b * t], y = new long[b * t];
        for (int i = 0; i < b; i++) {
            int s = (int) starts[i];
            System.arraycopy(src, s, x, i * t, t);
            System.arraycopy(src, s + 1, y, i * t, t);
        }
        return new Batch(Tensor.of(x, b, t), Tensor.of(y, b, t));
    }

    static Tensor loss(CharGpt model, Batch b) {
        Tensor logits = model.call(b.x());
        return F.crossEntropy(logits.reshape(-1, model.vocab), b.y().reshape(-1));
    }

    /** The demo's GPT at torch_gpt.py's sizes (context 128, 4 layers, 4 heads, width 128) over a vocabulary. */
    public static CharGpt model(int vocab) { return new CharGpt(vocab, CONTEXT, LAYERS, HEADS, WIDTH); }

    /** AdamW over the model with torch_gpt.py's groups and learning rate 1e-3. */
    public static AdamW optimizer(CharGpt model) { return optimizer(model, 1e-3); }

    /** AdamW with torch_gpt.py's groups (weight decay 0.1 on matrices, none on vectors) and betas, at learning rate lr. */
    public static AdamW optimizer(CharGpt model, double lr) {
        List<Tensor> decay = new ArrayList<>(), other = new ArrayList<>();
        for (Tensor p : model.parameters()) (p.dim() >= 2 ? decay : other).add(p);
        return AdamW.builder(ParamGroup.of(decay, Map.of("weight_decay", 0.1)), ParamGroup.of(other, Map.of("weight_decay", 0.0)))
                .lr(lr).betas(0.9, 0.95).build();
    }

    /** One optimizer step; returns the loss before it. */
    public static double trainStep(CharGpt model, AdamW opt, Batch b) {
        return step(model, opt).apply(new Tensor[] {b.x(), b.y()}).item();
    }

    /**
     * torch_gpt.py's training step as a function of the batch {x, y}, returning the loss tensor
     * (no {@code item()}), so the same step runs eagerly or is handed to {@code Tracer.traceStep}:
     * the clipping and AdamW's bias correction are tensor ops, nothing the trace would bake in.
     */
    public static Function<Tensor[], Tensor> step(CharGpt model, AdamW opt) { return step(model, opt, 1.0); }

    /** The same step with the gradients clipped to a joint 2-norm of {@code maxNorm}. */
    public static Function<Tensor[], Tensor> step(CharGpt model, AdamW opt, double maxNorm) {
        return xy -> {
            Tensor l = loss(model, new Batch(xy[0], xy[1]));
            opt.zeroGrad();
            l.backward();
            ClipGrad.clipGradNorm(model.parameters(), maxNorm);
            opt.step();
            return l;
        };
    }

    /** Mean loss over 20 validation batches drawn with seed 1, as torch_gpt.py. */
    static double validationLoss(CharGpt model, long[] val, int b, int t) {
        boolean was = model.isTraining();
        model.eval();
        Generator g = new Generator(1);
        double sum = 0;
        try (var ng = Autograd.noGrad()) {
            for (int i = 0; i < 20; i++) sum += loss(model, batch(val, b, t, g)).item();
        }
        model.train(was);
        return sum / 20;
    }

    /**
     * Appends {@code n} characters to {@code prompt}, each from the logits of the last position
     * over the last {@code context} ids: the argmax when temperature is 0, else a draw from
     * softmax(logits / temperature) with {@code g}.
     */
    static long[] generate(Function<Tensor, Tensor> logitsOf, long[] prompt, int n, int context, double temperature, Generator g) {
        if (prompt.length == 0) throw new IllegalArgumentException("generate: the prompt needs at least one character");
        long[] ids = Arrays.copyOf(prompt, prompt.length + n);
        for (int i = prompt.length; i < ids.length; i++) {
            int from = Math.max(0, i - context);
            Tensor logits = logitsOf.apply(Tensor.of(Arrays.copyOfRange(ids, from, i), 1, i - from));
            float[] last = logits.select(1, i - from - 1).reshape(-1).toFloatArray();
            ids[i] = temperature == 0 ? argmax(last) : sample(last, temperature, g);
        }
        return ids;
    }

    /** The example cache's length when the step is traced (any length runs after), at most the context. */
    static final int EXAMPLE_CACHE_SLOTS = 37;

    /** One decoding step: logits of new ids [1, T] at positions start.., and the cache that follows. */
    interface CachedStep {
        CharGpt.Step apply(Tensor ids, long start, List<Tensor> keys, List<Tensor> values);
    }

    /**
     * {@link #generate} with a key/value cache: the prompt is encoded once, then each new
     * character costs one position through the model, attending to the cached keys and values.
     * When the cache's context is full, the last half context of characters is encoded afresh
     * (position embeddings stop at the context), so past that point the text may differ from the
     * uncached loop, which slides its window by one character each time.
     */
    static long[] generateCached(CachedStep step, List<Tensor> empty, long[] prompt, int n, int context, double temperature, Generator g) {
        if (prompt.length == 0) throw new IllegalArgumentException("generate: the prompt needs at least one character");
        long[] ids = Arrays.copyOf(prompt, prompt.length + n);
        int from = Math.max(0, prompt.length - context);
        CharGpt.Step s = step.apply(Tensor.of(Arrays.copyOfRange(ids, from, prompt.length), 1, prompt.length - from), 0, empty, empty);
        int filled = prompt.length - from;
        for (int i = prompt.length; i < ids.length; i++) {
            float[] last = s.logits().select(1, s.logits().shape(1) - 1).reshape(-1).toFloatArray();
            ids[i] = temperature == 0 ? argmax(last) : sample(last, temperature, g);
            if (i + 1 == ids.length) break;
            if (filled == context) { // full: encode the last half context afresh
                int keep = Math.max(1, context / 2);
                s = step.apply(Tensor.of(Arrays.copyOfRange(ids, i + 1 - keep, i + 1), 1, keep), 0, empty, empty);
                filled = keep;
            } else {
                s = step.apply(Tensor.of(new long[] {ids[i]}, 1, 1), filled, s.keys(), s.values());
                filled++;
            }
        }
        return ids;
    }

    /** The eager model as a {@link CachedStep}. */
    static CachedStep eagerStep(CharGpt model) {
        return (ids, start, keys, values) -> {
            try (var ng = Autograd.noGrad()) {
                return model.forward(ids, Tensor.of(new long[] {start}).reshape(), keys, values);
            }
        };
    }

    /**
     * The decoding step traced: inputs ids [B, T], start (i64 scalar) and each layer's cache
     * [B, H, C, hd]; outputs the logits and the updated cache. B, T and the cache length C are
     * symbolic, the number of filled slots a value, so one graph serves every step and any cache
     * a caller allocates (C slots, start + T <= C; attention's work grows with C, so a short
     * generation can use a short cache). C stays the same from input to output: Kiln's symbolic
     * sizes are products (B*T), so a cache that grows by T each step (P + T) cannot be typed.
     */
    static Graph traceStep(CharGpt model, int layers) {
        // the example fills 7 + 5 positions; a context under 37 traces from a cache of the whole context
        if (model.context < 12) throw new IllegalArgumentException("traceStep: a context of at least 12 positions, got " + model.context);
        int exampleSlots = Math.min(EXAMPLE_CACHE_SLOTS, model.context);
        Tensor[] examples = new Tensor[2 + 2 * layers];
        // B = 3 and T = 5: sizes that coincide with no other dim (heads, head dim, context), so none is mistaken for another
        long[] ids = new long[15], prompt = new long[21];
        for (int i = 0; i < ids.length; i++) ids[i] = i % model.vocab;
        for (int i = 0; i < prompt.length; i++) prompt[i] = (i * 7) % model.vocab;
        examples[0] = Tensor.of(ids, 3, 5);
        examples[1] = Tensor.of(new long[] {7}).reshape();
        try (var ng = Autograd.noGrad()) {
            CharGpt.Step prefill = model.forward(Tensor.of(prompt, 3, 7), Tensor.of(new long[] {0}).reshape(), model.emptyCache(3), model.emptyCache(3));
            // a cache of 37 slots (7 filled): a length no other dim has, so it is never mistaken for one
            for (int l = 0; l < layers; l++) {
                examples[2 + l] = prefill.keys().get(l).narrow(2, 0, exampleSlots).contiguous();
                examples[2 + layers + l] = prefill.values().get(l).narrow(2, 0, exampleSlots).contiguous();
            }
        }
        TraceOptions.Builder o = TraceOptions.builder().name("char_gpt_step").dynamic(0, 0, "B").dynamic(0, 1, "T");
        String[] names = new String[2 + 2 * layers], outs = new String[1 + 2 * layers];
        names[0] = "ids";
        names[1] = "start";
        outs[0] = "logits";
        for (int l = 0; l < layers; l++) {
            names[2 + l] = "cache_keys_" + l;
            names[2 + layers + l] = "cache_values_" + l;
            outs[1 + l] = "keys_" + l;
            outs[1 + layers + l] = "values_" + l;
            o.dynamic(2 + l, 0, "B").dynamic(2 + layers + l, 0, "B").dynamic(2 + l, 2, "C").dynamic(2 + layers + l, 2, "C");
        }
        try (var ng = Autograd.noGrad()) {
            return Tracer.traceMulti(in -> {
                CharGpt.Step s = model.forward(in[0], in[1], Arrays.asList(in).subList(2, 2 + layers), Arrays.asList(in).subList(2 + layers, 2 + 2 * layers));
                Tensor[] r = new Tensor[1 + 2 * layers];
                r[0] = s.logits();
                for (int l = 0; l < layers; l++) {
                    r[1 + l] = s.keys().get(l);
                    r[1 + layers + l] = s.values().get(l);
                }
                return r;
            }, examples, o.inputNames(names).outputNames(outs).build());
        }
    }

    /** A compiled step graph as a {@link CachedStep}. */
    static CachedStep compiledStep(CompiledGraph step, int layers) {
        return (ids, start, keys, values) -> {
            List<Strided> in = new ArrayList<>();
            in.add(ids.data());
            in.add(Tensor.of(new long[] {start}).reshape().data());
            for (Tensor k : keys) in.add(k.data());
            for (Tensor v : values) in.add(v.data());
            List<Strided> r = step.run(in);
            List<Tensor> k = new ArrayList<>(), v = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                k.add(Tensor.wrap(r.get(1 + l)));
                v.add(Tensor.wrap(r.get(1 + layers + l)));
            }
            return new CharGpt.Step(Tensor.wrap(r.get(0)), k, v);
        };
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static int sample(float[] logits, double temperature, Generator g) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v / temperature);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] / temperature - max);
        double u = g.uniform(1, 0, 1)[0] * sum;
        for (int i = 0; i < p.length; i++) if ((u -= p[i]) < 0) return i;
        return p.length - 1;
    }

    public static void run(Options o, PrintStream out) throws IOException {
        Kiln.manualSeed(o.seed());
        CharCorpus corpus = CharCorpus.load(o.data());
        out.printf(Locale.ROOT, "data: %s; vocabulary %d, train %d, validation %d characters%n", corpus.source, corpus.vocabSize(),
                corpus.train.length, corpus.val.length);
        CharGpt model = model(corpus.vocabSize());
        out.printf(Locale.ROOT, "model: context %d, %d layers, %d heads, width %d; %,d parameters%n", CONTEXT, LAYERS, HEADS, WIDTH, model.parameterCount());
        AdamW opt = optimizer(model);
        Generator g = new Generator(o.seed());
        double[] stepMs = new double[o.steps()];
        double lossSum = 0;
        int lossN = 0;
        long t0 = System.nanoTime();
        for (int step = 1; step <= o.steps(); step++) {
            Batch b = batch(corpus.train, o.batchSize(), CONTEXT, g);
            long s = System.nanoTime();
            lossSum += trainStep(model, opt, b);
            lossN++;
            stepMs[step - 1] = (System.nanoTime() - s) / 1e6;
            if (step % 25 == 0 || step == o.steps()) {
                out.printf(Locale.ROOT, "step %4d/%d  train loss %.4f  %.0f ms/step  %.0f tokens/s%n", step, o.steps(), lossSum / lossN,
                        stepMs[step - 1], (double) o.batchSize() * CONTEXT * step / ((System.nanoTime() - t0) / 1e9));
                lossSum = 0;
                lossN = 0;
            }
        }
        double trainS = (System.nanoTime() - t0) / 1e9;
        double[] sorted = stepMs.clone();
        Arrays.sort(sorted);
        double val = validationLoss(model, corpus.val, o.batchSize(), CONTEXT);
        out.printf(Locale.ROOT, "{\"gpt_steps\": %d, \"val_loss\": %.4f, \"train_s\": %.1f, \"median_step_ms\": %.1f}%n", o.steps(), val, trainS,
                sorted.length == 0 ? 0 : sorted[sorted.length / 2]);

        // deployment: trace with B and T symbolic, export, reload without the model code, compile
        model.eval();
        Graph traced;
        try (var ng = Autograd.noGrad()) {
            traced = Tracer.trace(model, new Tensor[] {batch(corpus.val, 2, 16, new Generator(2)).x()},
                    TraceOptions.builder().name("char_gpt").dynamic(0, 0, "B").dynamic(0, 1, "T").inputNames("ids").build());
        }
        Files.createDirectories(o.out());
        Path file = o.out().resolve("gpt.kiln.json");
        KilnWriter.save(traced, file, KilnWriter.Weights.SIDECAR);
        CompiledGraph compiled = CompiledGraph.compile(KilnReader.load(file), CompileOptions.of(OptLevel.O2));
        out.printf(Locale.ROOT, "traced %d nodes with ids: %s, saved to %s (+ gpt.safetensors), reloaded and compiled (%d nodes)%n",
                traced.nodes().size(), traced.inputs().get(0).type(), file.toAbsolutePath(), compiled.graph().nodes().size());

        Function<Tensor, Tensor> artifact = ids -> {
            List<Strided> r = compiled.run(List.of(ids.data()));
            return Tensor.wrap(r.get(0));
        };
        Function<Tensor, Tensor> eager = ids -> {
            try (var ng = Autograd.noGrad()) {
                return model.call(ids);
            }
        };
        long[] prompt = "The ".codePoints().mapToLong(corpus::encode).toArray();
        long t1 = System.nanoTime();
        long[] greedy = generate(artifact, prompt, o.generate(), CONTEXT, 0, null);
        double genS = (System.nanoTime() - t1) / 1e9;
        long tEager = System.nanoTime();
        long[] greedyEager = generate(eager, prompt, o.generate(), CONTEXT, 0, null);
        double eagerS = (System.nanoTime() - tEager) / 1e9;
        int firstDiff = -1;
        for (int i = 0; i < greedy.length && firstDiff < 0; i++) if (greedy[i] != greedyEager[i]) firstDiff = i;
        out.println();
        out.printf(Locale.ROOT, "greedy, from the artifact (%s, no key/value cache):%n%s%n",
                o.generate() == 0 ? "nothing generated" : String.format(Locale.ROOT, "%.0f tokens/s", o.generate() / genS), corpus.decode(greedy).strip());
        out.println(firstDiff < 0 ? "eager generates the same " + o.generate() + " characters"
                : "eager differs from the artifact first at character " + firstDiff);
        long[] sampled = generate(artifact, prompt, o.generate(), CONTEXT, o.temperature(), new Generator(o.seed() + 7));
        out.printf(Locale.ROOT, "%nsampled at temperature %.2f, seed %d:%n%s%n", o.temperature(), o.seed() + 7, corpus.decode(sampled).strip());

        // incremental decoding: the step graph takes and returns the key/value cache (C slots per layer,
        // here the whole context) and the number of filled slots as a value, with B, T and C symbolic
        Graph stepGraph = traceStep(model, model.layers());
        Path stepFile = o.out().resolve("gpt-step.kiln.json");
        KilnWriter.save(stepGraph, stepFile, KilnWriter.Weights.SIDECAR);
        CachedStep cachedArtifact = compiledStep(CompiledGraph.compile(KilnReader.load(stepFile), CompileOptions.of(OptLevel.O2)), model.layers());
        long t2 = System.nanoTime();
        long[] greedyCached = generateCached(cachedArtifact, model.emptyCache(1), prompt, o.generate(), CONTEXT, 0, null);
        double cachedS = (System.nanoTime() - t2) / 1e9;
        int within = Math.min(greedy.length, CONTEXT); // past the context the cached loop re-encodes half a context, the uncached one slides
        boolean same = Arrays.equals(Arrays.copyOf(greedy, within), Arrays.copyOf(greedyCached, within));
        out.printf(Locale.ROOT, "%nwith a key/value cache (%s; one traced step graph, %s, serves every step): %s the first %d characters of the uncached text%n",
                o.generate() == 0 ? "nothing generated" : String.format(Locale.ROOT, "%.0f tokens/s against %.0f", o.generate() / cachedS, o.generate() / genS),
                stepFile.getFileName(), same ? "the same as" : "differs from", within);
        long t3 = System.nanoTime();
        long[] eagerCached = generateCached(eagerStep(model), model.emptyCache(1), prompt, o.generate(), CONTEXT, 0, null);
        double eagerCachedS = (System.nanoTime() - t3) / 1e9;
        if (o.generate() > 0) {
            out.printf(Locale.ROOT, "eagerly: %.0f tokens/s with the cache (%s the artifact's cached text), %.0f without%n", o.generate() / eagerCachedS,
                    Arrays.equals(eagerCached, greedyCached) ? "the same as" : "differs from", o.generate() / eagerS);
        }
    }
}
