package dev.kiln.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The JVM deployment peer of the side-by-side harness: ONNX Runtime Java timing the MLP and LeNet
 * that ../shared/bench/export_onnx.py exports from PyTorch, on the inference rows' names
 * ({@code lenet_infer_b64_traced}, {@code mlp_infer_b64_traced}, {@code mlp_infer_b1}), at 1 and
 * 2 intra-op threads (inter-op 1, all graph optimizations), median over at least 2,000 runs after
 * warm-up, creating the input tensor inside each timed run as a caller would. Prints JSON lines
 * with {@code "peer": "onnxruntime"}.
 *
 * <pre>java -cp benchmarks.jar dev.kiln.benchmarks.OrtRows DIR_WITH_ONNX_FILES</pre>
 */
public final class OrtRows {
    private OrtRows() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : ".");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (int threads : new int[] {1, 2}) {
            row(env, dir.resolve("lenet.onnx"), "lenet_infer_b64_traced", new long[] {64, 1, 28, 28}, threads, 2000);
            row(env, dir.resolve("mlp.onnx"), "mlp_infer_b64_traced", new long[] {64, 784}, threads, 3000);
            row(env, dir.resolve("mlp.onnx"), "mlp_infer_b1", new long[] {1, 784}, threads, 20000);
        }
    }

    private static void row(OrtEnvironment env, Path model, String name, long[] shape, int threads, int runs) throws Exception {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession s = env.createSession(model.toString(), o)) {
                int n = 1;
                for (long d : shape) n *= (int) d;
                float[] x = new float[n];
                Random rnd = new Random(0);
                for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
                double ms = Median.ms(() -> {
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape); OrtSession.Result r = s.run(Map.of("x", t))) {
                        return r.get(0).getValue();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, runs, Math.max(50, runs / 10));
                System.out.println(String.format(Locale.ROOT, "{\"workload\": \"%s\", \"ms\": %.5f, \"threads\": %d, \"peer\": \"onnxruntime\"}", name, ms, threads));
            }
        }
    }
}
