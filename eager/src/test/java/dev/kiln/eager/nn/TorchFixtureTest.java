package dev.kiln.eager.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.CrossEntropyOptions;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.functional.Reduction;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Compares Kiln with PyTorch 1.13 on the fixtures written by tests/tools/gen_nn_fixtures.py:
 * forward values and the gradients of sum(output * gout) for every input, in float64.
 */
class TorchFixtureTest {
    private static final double TOL = 1e-9;

    /** One fixture case: named inputs (requiring grad) and constants. */
    record Case(String name, JsonNode attrs, Map<String, Tensor> in, Map<String, Tensor> consts, Map<String, Tensor> gradFrom) {
        Tensor i(String k) { return in.get(k); }

        Tensor c(String k) { return consts.get(k); }

        int[] pair(String k) {
            JsonNode v = attrs.get(k);
            return v.isArray() ? new int[] {v.get(0).asInt(), v.get(1).asInt()} : new int[] {v.asInt(), v.asInt()};
        }

        int num(String k, int def) { return attrs.has(k) ? attrs.get(k).asInt() : def; }

        Reduction reduction() {
            if (!attrs.has("reduction")) return Reduction.MEAN;
            String r = attrs.get("reduction").asText();
            return r.equals("batchmean") ? Reduction.BATCH_MEAN : Reduction.valueOf(r.toUpperCase());
        }
    }

    static Tensor tensor(JsonNode n) {
        int[] shape = new int[n.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = n.get("shape").get(i).asInt();
        JsonNode d = n.get("data");
        if (n.get("dtype").asText().equals("i64")) {
            long[] v = new long[d.size()];
            for (int i = 0; i < v.length; i++) v[i] = d.get(i).asLong();
            return Tensor.of(v, shape);
        }
        double[] v = new double[d.size()];
        for (int i = 0; i < v.length; i++) v[i] = d.get(i).asDouble();
        return Tensor.of(v, shape);
    }

    static JsonNode load(String group) throws IOException {
        try (InputStream s = TorchFixtureTest.class.getResourceAsStream("/nn-fixtures/" + group + ".json")) {
            assertNotNull(s, "fixture " + group + ".json is missing; run tests/tools/gen_nn_fixtures.py");
            return new ObjectMapper().readTree(s);
        }
    }

    static void assertClose(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double tol = actual.dtype() == DType.FLOAT32 || what.startsWith("lstm") ? 2e-5 : TOL;
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int k = 0; k < e.length; k++) {
            assertTrue(Math.abs(e[k] - a[k]) <= tol * (1 + Math.abs(e[k])), what + " element " + k + ": expected " + e[k] + ", got " + a[k]);
        }
    }

    private static Stream<DynamicTest> run(String group, Function<Case, Tensor> fn) throws IOException {
        JsonNode root = load(group);
        List<DynamicTest> tests = new ArrayList<>();
        root.fields().forEachRemaining(e -> tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
            JsonNode j = e.getValue();
            Map<String, Tensor> in = new LinkedHashMap<>(), consts = new LinkedHashMap<>();
            j.get("inputs").fields().forEachRemaining(f -> in.put(f.getKey(), tensor(f.getValue()).requiresGrad(true)));
            j.get("consts").fields().forEachRemaining(f -> consts.put(f.getKey(), tensor(f.getValue())));
            Case c = new Case(e.getKey(), j.get("attrs"), in, consts, new LinkedHashMap<>(in));
            Tensor out = fn.apply(c);
            assertClose(c.name + " output", tensor(j.get("output")), out);
            out.backward(tensor(j.get("gout")));
            j.get("grads").fields().forEachRemaining(f -> {
                Tensor src = c.gradFrom.get(f.getKey()), g = src.grad();
                assertClose(c.name + " grad of " + f.getKey(), tensor(f.getValue()), g == null ? Tensor.zerosLike(src) : g);
            });
            if (j.has("after")) {
                j.get("after").fields().forEachRemaining(f -> assertClose(c.name + " " + f.getKey() + " after one step", tensor(f.getValue()), consts.get(f.getKey())));
            }
        })));
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> conv() throws IOException {
        return run("conv", c -> {
            if (c.name.equals("conv1d")) return F.conv1d(c.i("x"), c.i("w"), c.i("b"), c.num("stride", 1), c.num("padding", 0), c.num("dilation", 1), 1);
            if (c.name.equals("conv2d_same_even")) return F.conv2d(c.i("x"), c.i("w"), null, new int[] {1, 1}, "same", c.pair("dilation"), 1);
            if (c.name.equals("conv2d_nobias")) return F.conv2d(c.i("x"), c.i("w"), null, c.pair("stride"), new int[] {0, 0}, new int[] {1, 1}, 1);
            if (c.name.startsWith("conv_transpose2d")) {
                return F.convTranspose2d(c.i("x"), c.i("w"), c.i("b"), c.pair("stride"), c.pair("padding"), c.pair("output_padding"),
                        c.num("groups", 1), c.pair("dilation"));
            }
            return F.conv2d(c.i("x"), c.i("w"), c.i("b"), c.pair("stride"), c.pair("padding"), c.pair("dilation"), c.num("groups", 1));
        });
    }

    @TestFactory
    Stream<DynamicTest> pool() throws IOException {
        return run("pool", c -> {
            if (c.name.startsWith("max")) {
                return F.maxPool2d(c.i("x"), c.pair("kernel_size"), c.pair("stride"), c.pair("padding"), c.pair("dilation"), c.attrs.get("ceil_mode").asBoolean());
            }
            if (c.name.startsWith("avg")) {
                return F.avgPool2d(c.i("x"), c.pair("kernel_size"), c.pair("stride"), c.pair("padding"), c.attrs.get("ceil_mode").asBoolean(),
                        c.attrs.get("count_include_pad").asBoolean());
            }
            return F.adaptiveAvgPool2d(c.i("x"), c.pair("output_size"));
        });
    }

    /** Max pooling without a gradient runs the one-kernel max_pool2d op: the same PyTorch values. */
    @TestFactory
    Stream<DynamicTest> maxPoolForInference() throws IOException {
        JsonNode root = load("pool");
        List<DynamicTest> tests = new ArrayList<>();
        root.fields().forEachRemaining(e -> {
            if (!e.getKey().startsWith("max")) return;
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
                JsonNode j = e.getValue();
                Case c = new Case(e.getKey(), j.get("attrs"), Map.of(), Map.of(), Map.of());
                Tensor x = tensor(j.get("inputs").get("x"));
                try (var ng = dev.kiln.eager.autograd.Autograd.noGrad()) {
                    Tensor y = F.maxPool2d(x, c.pair("kernel_size"), c.pair("stride"), c.pair("padding"), c.pair("dilation"), j.get("attrs").get("ceil_mode").asBoolean());
                    assertClose(e.getKey() + " without grad", tensor(j.get("output")), y);
                    Tensor y32 = F.maxPool2d(x.to(DType.FLOAT32), c.pair("kernel_size"), c.pair("stride"), c.pair("padding"), c.pair("dilation"), j.get("attrs").get("ceil_mode").asBoolean());
                    assertClose(e.getKey() + " f32 without grad", tensor(j.get("output")), y32);
                }
            }));
        });
        return tests.stream();
    }

    @org.junit.jupiter.api.Test
    void aPoolingWindowEntirelyInThePaddingIsRefusedByName() {
        // taps at -1 and 2 of a 2-wide input: PyTorch gives -inf, which no index can carry
        Tensor x = Tensor.randn(1, 1, 2, 2);
        for (boolean grad : new boolean[] {false, true}) {
            Tensor in = grad ? x.clone().requiresGrad(true) : x;
            RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                    () -> F.maxPool2d(in, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, new int[] {3, 3}, false));
            assertTrue(e.getMessage().contains("lies entirely in the padding"), e.getMessage());
        }
    }

    @TestFactory
    Stream<DynamicTest> norm() throws IOException {
        return run("norm", c -> {
            double eps = c.attrs.get("eps").asDouble();
            if (c.name.startsWith("batch_norm")) {
                return F.batchNorm(c.i("x"), c.c("running_mean"), c.c("running_var"), c.i("w"), c.i("b"), c.attrs.get("training").asBoolean(),
                        c.attrs.get("momentum").asDouble(), eps);
            }
            if (c.name.equals("layer_norm")) return F.layerNorm(c.i("x"), c.pair("normalized_shape"), c.i("w"), c.i("b"), eps);
            return F.groupNorm(c.i("x"), c.num("groups", 1), c.i("w"), c.i("b"), eps);
        });
    }

    @TestFactory
    Stream<DynamicTest> loss() throws IOException {
        return run("loss", c -> {
            Reduction r = c.reduction();
            String n = c.name;
            Tensor x = c.i("x");
            if (n.startsWith("ce_")) {
                CrossEntropyOptions o = CrossEntropyOptions.DEFAULT.withReduction(r).withWeight(c.c("w"))
                        .withLabelSmoothing(c.attrs.has("label_smoothing") ? c.attrs.get("label_smoothing").asDouble() : 0)
                        .withIgnoreIndex(c.num("ignore_index", -100));
                return F.crossEntropy(x, n.equals("ce_probs") ? c.c("p") : c.c("t"), o);
            }
            if (n.startsWith("nll")) return F.nllLoss(x.logSoftmax(1), c.c("t"), c.c("w"), c.num("ignore_index", -100), r);
            if (n.startsWith("mse")) return F.mseLoss(x, c.c("y"), r);
            if (n.startsWith("l1")) return F.l1Loss(x, c.c("y"), r);
            if (n.startsWith("smooth_l1")) return F.smoothL1Loss(x, c.c("y"), r, c.attrs.get("beta").asDouble());
            if (n.startsWith("huber")) return F.huberLoss(x, c.c("y"), r, c.attrs.get("delta").asDouble());
            if (n.startsWith("kl_div")) return F.klDiv(x, c.c("t"), r, c.attrs.get("log_target").asBoolean());
            if (n.startsWith("bce_logits")) return F.binaryCrossEntropyWithLogits(x, c.c("y"), c.c("w"), c.c("pw"), r);
            return F.binaryCrossEntropy(x, c.c("y"), c.c("w"), r);
        });
    }

    @TestFactory
    Stream<DynamicTest> attention() throws IOException {
        return run("attention", c -> {
            boolean causal = c.attrs.has("causal") && c.attrs.get("causal").asBoolean();
            Double scale = c.attrs.has("scale") ? c.attrs.get("scale").asDouble() : null;
            Tensor m = c.c("m");
            if (m != null && c.name.contains("bool")) m = m.ne(0.0); // the generator writes every const as numbers
            return F.scaledDotProductAttention(c.i("q"), c.i("k"), c.i("v"), m, 0, causal, scale);
        });
    }

    @TestFactory
    Stream<DynamicTest> misc() throws IOException {
        return run("misc", c -> {
            if (c.name.startsWith("embedding")) return F.embedding(c.c("i"), c.i("w"), c.num("padding_idx", 0));
            if (c.name.startsWith("linear")) return F.linear(c.i("x"), c.i("w"), c.i("b"));
            LSTM lstm = new LSTM(3, 4, 2, true, true);
            Map<String, Tensor> weights = new LinkedHashMap<>(c.in);
            weights.keySet().removeAll(List.of("x", "h0", "c0"));
            lstm.loadStateDict(weights, true);
            // weight gradients are read from the module's own parameters
            c.gradFrom.putAll(lstm.namedParameters());
            // modules hold f32 parameters: run in f32 and compare with a looser tolerance
            LSTM.Output out = lstm.run(c.i("x").to(DType.FLOAT32), c.i("h0").to(DType.FLOAT32), c.i("c0").to(DType.FLOAT32));
            return Tensor.cat(0, out.output().reshape(-1), out.h().reshape(-1), out.c().reshape(-1)).to(DType.FLOAT64);
        });
    }
}
