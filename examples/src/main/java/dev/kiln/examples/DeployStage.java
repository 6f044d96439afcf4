package dev.kiln.examples;

import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
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
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The second half of the demo: trace the trained model with a symbolic batch, save it as a
 * JSON artifact with a safetensors sidecar, reload it as a deployment would (no model code),
 * compile it, and check that its predictions equal the eager model's on the whole test set.
 */
final class DeployStage {
    private DeployStage() {}

    private static final int BATCH = 1000;

    /** Returns the number of test images whose prediction differs (0 is the expected outcome). */
    static long run(LeNet model, Tensor images, Tensor labels, Path dir, PrintStream out) throws IOException {
        model.eval();
        Graph traced;
        try (var ng = Autograd.noGrad()) {
            traced = Tracer.trace(model, new Tensor[] {images.narrow(0, 0, 64)},
                    TraceOptions.builder().name("lenet").dynamic(0, 0, "N").inputNames("x").build());
        }
        Path file = dir.resolve("lenet.kiln.json");
        KilnWriter.save(traced, file, KilnWriter.Weights.SIDECAR);
        out.println();
        out.println("traced graph (" + traced.nodes().size() + " nodes), saved to " + file.toAbsolutePath() + " + lenet.safetensors:");
        out.print(traced);

        Graph loaded = KilnReader.load(file);
        CompiledGraph compiled = CompiledGraph.compile(loaded, CompileOptions.of(OptLevel.O2));
        out.println();
        out.println("reloaded and compiled at O2: " + compiled.graph().nodes().size() + " nodes after optimization");
        out.print(compiled.explain(Map.of("N", (long) BATCH)));

        int n = images.shape(0);
        long mismatches = 0, correct = 0;
        double maxDiff = 0;
        long eagerNs = 0, compiledNs = 0;
        for (int s = 0; s < n; s += BATCH) {
            int len = Math.min(BATCH, n - s);
            Tensor x = images.narrow(0, s, len).contiguous();
            long t0 = System.nanoTime();
            Tensor eager;
            try (var ng = Autograd.noGrad()) {
                eager = model.call(x);
            }
            long t1 = System.nanoTime();
            List<Strided> res = compiled.run(List.of(x.data()));
            long t2 = System.nanoTime();
            eagerNs += t1 - t0;
            compiledNs += t2 - t1;
            Tensor deployed = Tensor.wrap(res.get(0));
            long[] pe = eager.argmax(1, false).toLongArray(), pd = deployed.argmax(1, false).toLongArray(), y = labels.narrow(0, s, len).toLongArray();
            float[] a = eager.toFloatArray(), b = deployed.toFloatArray();
            for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            for (int i = 0; i < len; i++) {
                if (pe[i] != pd[i]) mismatches++;
                if (pd[i] == y[i]) correct++;
            }
        }
        out.printf(Locale.ROOT, "deployed model: test accuracy %.4f; predictions differing from eager: %d of %d; max |logit diff| %.2e%n",
                (double) correct / n, mismatches, n, maxDiff);
        // the pass above ran while the JIT was still compiling both paths; a served model runs warm
        long[] warm = timedPass(model, compiled, images);
        out.printf(Locale.ROOT, "inference over the test set: eager %.0f img/s, compiled artifact %.0f img/s (%.2fx)"
                + " (second pass; the first, JIT still compiling: eager %.0f img/s, compiled %.0f img/s)%n",
                n / (warm[0] / 1e9), n / (warm[1] / 1e9), (double) warm[0] / warm[1], n / (eagerNs / 1e9), n / (compiledNs / 1e9));
        return mismatches;
    }

    /** Nanoseconds of eager and of compiled inference over all images, batch by batch, alternating. */
    private static long[] timedPass(LeNet model, CompiledGraph compiled, Tensor images) {
        long eagerNs = 0, compiledNs = 0;
        for (int s = 0, n = images.shape(0); s < n; s += BATCH) {
            Tensor x = images.narrow(0, s, Math.min(BATCH, n - s)).contiguous();
            long t0 = System.nanoTime();
            try (var ng = Autograd.noGrad()) {
                model.call(x);
            }
            long t1 = System.nanoTime();
            compiled.run(List.of(x.data()));
            long t2 = System.nanoTime();
            eagerNs += t1 - t0;
            compiledNs += t2 - t1;
        }
        return new long[] {eagerNs, compiledNs};
    }
}
