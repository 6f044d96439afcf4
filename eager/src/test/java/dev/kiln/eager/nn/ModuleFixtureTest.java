package dev.kiln.eager.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.optim.Optimizer;
import dev.kiln.eager.optim.SGD;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * MultiheadAttention, the Transformer encoder and decoder layers and stacks, RNN, GRU and LSTM
 * (multi-layer, bidirectional, batch first) and their cells against PyTorch 1.13
 * (tests/tools/gen_module_fixtures.py): each PyTorch state dict loads by name, and the output, the
 * attention weights, every parameter's and input's gradient, and the parameters after 5 SGD
 * momentum steps match. Kiln runs the modules in float32 against PyTorch's float64.
 */
class ModuleFixtureTest {
    static JsonNode load() throws Exception {
        try (InputStream in = ModuleFixtureTest.class.getResourceAsStream("/nn-fixtures/modules.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    static Tensor tensor(JsonNode n, boolean f32) {
        int[] shape = new int[n.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = n.get("shape").get(i).asInt();
        JsonNode d = n.get("data");
        if (n.get("dtype").asText().equals("bool")) {
            boolean[] v = new boolean[d.size()];
            for (int i = 0; i < v.length; i++) v[i] = d.get(i).asBoolean();
            return Tensor.of(v, shape);
        }
        double[] v = new double[d.size()];
        for (int i = 0; i < v.length; i++) v[i] = d.get(i).asDouble();
        Tensor t = Tensor.of(v, shape);
        return f32 ? t.to(DType.FLOAT32) : t;
    }

    static void close(String what, JsonNode want, Tensor got, double tol) {
        Tensor w = tensor(want, false);
        assertArrayEquals(w.shape(), got.shape(), what + ": shape");
        double[] e = w.toDoubleArray(), a = got.contiguous().toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            int k = i;
            assertTrue(Math.abs(e[i] - a[i]) <= tol * (1 + Math.abs(e[i])), () -> what + " element " + k + ": PyTorch " + e[k] + ", Kiln " + a[k]);
        }
    }

    /** The module a case describes, its PyTorch state dict loaded by name. */
    static Module build(String name, JsonNode args, JsonNode state) {
        Module m;
        if (args.has("kind")) {
            m = recurrent(args);
        } else if (name.startsWith("mha")) {
            m = new MultiheadAttention(args.get("embed_dim").asInt(), args.get("num_heads").asInt(), 0.0, true, args.get("batch_first").asBoolean());
        } else {
            int d = args.get("d_model").asInt(), h = args.get("nhead").asInt(), ff = args.get("dim_feedforward").asInt();
            String act = args.get("activation").asText();
            boolean pre = args.get("norm_first").asBoolean(), bf = !args.has("batch_first") || args.get("batch_first").asBoolean();
            if (name.startsWith("decoder")) {
                m = args.has("num_layers")
                        ? new TransformerDecoder(() -> new TransformerDecoderLayer(d, h, ff, 0.0, act, 1e-5, bf, pre), args.get("num_layers").asInt(), new LayerNorm(d))
                        : new TransformerDecoderLayer(d, h, ff, 0.0, act, 1e-5, bf, pre);
            } else if (args.has("num_layers")) {
                m = new TransformerEncoder(() -> new TransformerEncoderLayer(d, h, ff, 0.0, act, 1e-5, bf, pre), args.get("num_layers").asInt(),
                        new LayerNorm(d));
            } else {
                m = new TransformerEncoderLayer(d, h, ff, 0.0, act, 1e-5, bf, pre);
            }
        }
        Map<String, Tensor> sd = new LinkedHashMap<>();
        state.fields().forEachRemaining(f -> sd.put(f.getKey(), tensor(f.getValue(), true)));
        assertTrue(m.loadStateDict(sd, true).clean(), name + ": the PyTorch state dict loads by name");
        return m;
    }

    static Module recurrent(JsonNode a) {
        int in = a.get("input_size").asInt(), h = a.get("hidden_size").asInt();
        boolean bias = a.get("bias").asBoolean();
        String act = a.get("nonlinearity").asText();
        switch (a.get("kind").asText()) {
            case "RNNCell": return new RNNCell(in, h, bias, act);
            case "GRUCell": return new GRUCell(in, h, bias);
            case "LSTMCell": return new LSTMCell(in, h, bias);
            default: break;
        }
        int layers = a.get("num_layers").asInt();
        boolean bf = a.get("batch_first").asBoolean(), bi = a.get("bidirectional").asBoolean();
        switch (a.get("kind").asText()) {
            case "RNN": return new RNN(in, h, layers, act, bias, bf, 0.0, bi);
            case "GRU": return new GRU(in, h, layers, bias, bf, 0.0, bi);
            default: return new LSTM(in, h, layers, bias, bf, 0.0, bi);
        }
    }

    /** A recurrent case's result: the outputs and final states (cells: every step's states) as one vector. */
    static Tensor recurrentForward(Module m, Map<String, Tensor> in) {
        Tensor x = in.get("x"), h0 = in.get("h0"), c0 = in.get("c0");
        List<Tensor> parts = new ArrayList<>();
        if (m instanceof RNNCellBase) {
            Tensor h = h0, c = c0;
            for (int t = 0; t < x.shape(0); t++) {
                if (m instanceof LSTMCell cell) {
                    LSTMCell.State s = cell.step(x.select(0, t), h, c);
                    h = s.h();
                    c = s.c();
                    parts.add(h.reshape(-1));
                    parts.add(c.reshape(-1));
                } else {
                    h = m instanceof GRUCell g ? g.forward(x.select(0, t), h) : ((RNNCell) m).forward(x.select(0, t), h);
                    parts.add(h.reshape(-1));
                }
            }
        } else if (m instanceof LSTM lstm) {
            LSTM.Output o = lstm.run(x, h0, c0);
            parts.addAll(List.of(o.output().reshape(-1), o.h().reshape(-1), o.c().reshape(-1)));
        } else {
            RNN.Output o = m instanceof GRU g ? g.run(x, h0) : ((RNN) m).run(x, h0);
            parts.addAll(List.of(o.output().reshape(-1), o.h().reshape(-1)));
        }
        return Tensor.cat(parts, 0);
    }

    /** The forward of a case: output and (for MHA with need_weights) weights. */
    static Tensor[] forward(String name, Module m, JsonNode args, Map<String, Tensor> in, Map<String, Tensor> masks) {
        if (args.has("kind")) return new Tensor[] {recurrentForward(m, in), null};
        if (m instanceof MultiheadAttention mha) {
            Tensor q = in.get("query"), k = in.getOrDefault("key", q), v = in.getOrDefault("value", k);
            MultiheadAttention.Output o = mha.forward(q, k, v, masks.get("key_padding_mask"), args.get("need_weights").asBoolean(),
                    masks.get("attn_mask"), args.get("average").asBoolean());
            return new Tensor[] {o.output(), o.weights()};
        }
        if (m instanceof TransformerDecoder dec) {
            return new Tensor[] {dec.forward(in.get("tgt"), in.get("memory"), masks.get("tgt_mask"), null, null, masks.get("memory_key_padding_mask")), null};
        }
        if (m instanceof TransformerDecoderLayer dl) {
            return new Tensor[] {dl.forward(in.get("tgt"), in.get("memory"), masks.get("tgt_mask"), null, null, masks.get("memory_key_padding_mask")), null};
        }
        if (m instanceof TransformerEncoder e) return new Tensor[] {e.forward(in.get("src"), masks.get("mask"), masks.get("src_key_padding_mask")), null};
        return new Tensor[] {((TransformerEncoderLayer) m).forward(in.get("src"), masks.get("mask"), masks.get("src_key_padding_mask")), null};
    }

    @TestFactory
    Stream<DynamicTest> matchesPyTorch() throws Exception {
        JsonNode root = load();
        List<DynamicTest> tests = new ArrayList<>();
        root.fields().forEachRemaining(e -> tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
            String name = e.getKey();
            JsonNode c = e.getValue(), args = c.get("args");
            Module m = build(name, args, c.get("state"));
            Map<String, Tensor> in = new LinkedHashMap<>(), masks = new LinkedHashMap<>();
            c.get("inputs").fields().forEachRemaining(f -> in.put(f.getKey(), tensor(f.getValue(), true).requiresGrad(true)));
            c.get("masks").fields().forEachRemaining(f -> masks.put(f.getKey(), tensor(f.getValue(), !f.getValue().get("dtype").asText().equals("bool"))));
            Tensor[] out = forward(name, m, args, in, masks);
            close(name + " output", c.get("output"), out[0], 2e-5);
            Tensor loss = out[0].mul(tensor(c.get("gout"), true)).sum();
            if (c.has("weights")) {
                close(name + " attention weights", c.get("weights"), out[1], 2e-5);
                loss = loss.add(out[1].mul(tensor(c.get("gweights"), true)).sum());
            }
            loss.backward();
            Map<String, Tensor> params = m.namedParameters();
            c.get("grads").fields().forEachRemaining(f -> {
                Tensor src = params.containsKey(f.getKey()) ? params.get(f.getKey()) : in.get(f.getKey());
                assertTrue(src != null, name + ": no parameter or input " + f.getKey());
                close(name + " gradient of " + f.getKey(), f.getValue(), src.grad(), 1e-4);
            });
            // 5 SGD momentum steps on the same loss
            Optimizer opt = SGD.builder(new ArrayList<>(params.values())).lr(0.05).momentum(0.9).build();
            Map<String, Tensor> fixed = new LinkedHashMap<>();
            in.forEach((k, v) -> fixed.put(k, v.detach()));
            for (int step = 0; step < 5; step++) {
                opt.zeroGrad();
                Tensor[] o = forward(name, m, args, fixed, masks);
                Tensor l = o[0].mul(tensor(c.get("gout"), true)).sum();
                if (c.has("weights")) l = l.add(o[1].mul(tensor(c.get("gweights"), true)).sum());
                l.backward();
                opt.step();
            }
            c.get("after_5_sgd").fields().forEachRemaining(f -> close(name + " " + f.getKey() + " after 5 SGD steps", f.getValue(), params.get(f.getKey()).detach(), 3e-4));
        })));
        return tests.stream();
    }
}
