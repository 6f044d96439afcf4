package dev.kiln.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.LoadLimits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Models exported by PyTorch 1.13's torch.onnx.export at opsets 13 and 17
 * (tests/tools/gen_onnx_fixtures.py) import as Kiln graphs whose dynamic dims stay symbolic:
 * each is compiled once and must reproduce PyTorch's outputs at the export's sizes and at three
 * others (batch 1, 3, 64; sequence lengths 1, 5, 31).
 */
class OnnxImportTest {
    static final Path DIR = Path.of("src/test/resources/onnx-fixtures");

    static Tensor tensor(JsonNode n) {
        int[] shape = new int[n.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = n.get("shape").get(i).asInt();
        JsonNode d = n.get("data");
        switch (n.get("dtype").asText()) {
            case "i64": {
                long[] v = new long[d.size()];
                for (int i = 0; i < v.length; i++) v[i] = d.get(i).asLong();
                return Tensor.of(v, shape);
            }
            case "bool": {
                boolean[] v = new boolean[d.size()];
                for (int i = 0; i < v.length; i++) v[i] = d.get(i).asBoolean();
                return Tensor.of(v, shape);
            }
            default: {
                float[] v = new float[d.size()];
                for (int i = 0; i < v.length; i++) {
                    JsonNode x = d.get(i);
                    v[i] = x.isTextual() ? switch (x.asText()) {
                        case "nan" -> Float.NaN;
                        case "inf" -> Float.POSITIVE_INFINITY;
                        default -> Float.NEGATIVE_INFINITY;
                    } : (float) x.asDouble();
                }
                return Tensor.of(v, shape);
            }
        }
    }

    static void close(String what, Tensor want, Tensor got, double tol) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        double[] e = want.to(DType.FLOAT64).contiguous().toDoubleArray(), a = got.to(DType.FLOAT64).contiguous().toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            int k = i;
            boolean ok = Double.isNaN(e[i]) ? Double.isNaN(a[i]) : e[i] == a[i] || Math.abs(e[i] - a[i]) <= tol * (1 + Math.abs(e[i]));
            assertTrue(ok, () -> what + " element " + k + ": PyTorch " + e[k] + ", Kiln " + a[k]);
        }
    }

    /** The example and the three cases of a fixture: (inputs, outputs) in the model's order. */
    static List<Tensor[][]> cases(JsonNode f) {
        List<Tensor[][]> r = new ArrayList<>();
        List<JsonNode> all = new ArrayList<>();
        all.add(f);
        f.get("cases").forEach(all::add);
        for (JsonNode c : all) {
            List<Tensor> in = new ArrayList<>(), out = new ArrayList<>();
            c.get("inputs").fields().forEachRemaining(e -> in.add(tensor(e.getValue())));
            c.get("outputs").fields().forEachRemaining(e -> out.add(tensor(e.getValue())));
            r.add(new Tensor[][] {in.toArray(new Tensor[0]), out.toArray(new Tensor[0])});
        }
        return r;
    }

    static List<Tensor> run(CompiledGraph c, Tensor[] in) {
        List<Strided> data = new ArrayList<>();
        for (Tensor t : in) data.add(t.data());
        List<Tensor> out = new ArrayList<>();
        for (Strided s : c.run(data)) out.add(Tensor.wrap(s));
        return out;
    }

    @TestFactory
    Stream<DynamicTest> pytorchExportsImportAndMatchAtEverySize() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : new String[] {"mlp", "lenet", "cnn", "batchnorm", "attention", "encoder_layer", "ops_misc", "lstm", "gru"}) {
            for (int opset : new int[] {13, 17}) {
                String name = model + "_opset" + opset;
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    JsonNode f = new ObjectMapper().readTree(DIR.resolve(name + ".json").toFile());
                    // ops_misc slices T with a step (ceil((T-1)/2) is no monomial): T is fixed per import; LSTM and GRU scan over a symbolic T
                    boolean recurrent = model.equals("ops_misc");
                    CompiledGraph shared = recurrent ? null
                            : CompiledGraph.compile(Onnx.load(DIR.resolve(name + ".onnx")), CompileOptions.of(OptLevel.O2));
                    int k = 0;
                    for (Tensor[][] c : cases(f)) {
                        CompiledGraph g = shared;
                        if (recurrent) { // the sequence length is fixed per import
                            g = CompiledGraph.compile(Onnx.load(DIR.resolve(name + ".onnx"), LoadLimits.defaults(), Map.of("T", c[0][0].shape(1))),
                                    CompileOptions.of(OptLevel.O2));
                        }
                        List<Tensor> got = run(g, c[0]);
                        assertEquals(c[1].length, got.size(), name + ": output count");
                        for (int o = 0; o < got.size(); o++) close(name + " case " + k + " output " + o, c[1][o], got.get(o), 1e-4);
                        k++;
                    }
                }));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> dynamicDimsStaySymbolic() {
        return Stream.of("mlp_opset17", "attention_opset17", "encoder_layer_opset13").map(name -> DynamicTest.dynamicTest(name, () -> {
            Graph g = Onnx.load(DIR.resolve(name + ".onnx"));
            String t = g.inputs().get(0).type().toString();
            assertTrue(t.contains("N"), t);
            assertTrue(g.guards().isEmpty(), g.guards().toString());
            Iterator<String> it = g.metadata().keySet().iterator();
            assertTrue(it.hasNext());
        }));
    }
}
