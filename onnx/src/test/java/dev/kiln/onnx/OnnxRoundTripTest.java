package dev.kiln.onnx;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.SGD;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serialization.LoadLimits;
import dev.kiln.tracer.GraphModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * PyTorch -> ONNX -> Kiln -> fine-tune -> .kiln.json and -> ONNX again, on LeNet, an MLP, a
 * transformer encoder layer and an LSTM: the fine-tuned model's outputs are the same from the
 * reloaded JSON artifact, from ONNX Runtime running the re-exported model, and from that ONNX
 * model imported into Kiln once more.
 */
class OnnxRoundTripTest {
    @TempDir
    Path dir;

    @TestFactory
    Stream<DynamicTest> roundTrips() {
        return Stream.of("lenet_opset17", "mlp_opset13", "encoder_layer_opset17", "lstm_opset17").map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode f = new ObjectMapper().readTree(OnnxImportTest.DIR.resolve(name + ".json").toFile());
            Tensor x = OnnxImportTest.tensor(f.get("inputs").elements().next());
            Map<String, Integer> fixed = name.startsWith("lstm") ? Map.of("T", x.shape(1)) : Map.of();
            Graph imported = Onnx.load(OnnxImportTest.DIR.resolve(name + ".onnx"), LoadLimits.defaults(), fixed);

            // fine-tune: three SGD steps towards a random target
            GraphModule m = new GraphModule(imported);
            Tensor before;
            try (var ng = Autograd.noGrad()) {
                before = m.forward(x);
            }
            Tensor target = Tensor.randn(before.shape());
            SGD opt = SGD.builder(m.parameters()).lr(0.05).build();
            for (int step = 0; step < 3; step++) {
                opt.zeroGrad();
                F.mseLoss(m.forward(x), target).backward();
                opt.step();
            }
            Tensor tuned;
            try (var ng = Autograd.noGrad()) {
                tuned = m.forward(x);
            }
            assertFalse(tuned.allclose(before, 1e-6, 1e-6), name + ": fine-tuning changed nothing");
            Graph g = m.toGraph();

            // -> .kiln.json, reloaded without any model code
            Path json = dir.resolve(name + ".kiln.json");
            KilnWriter.save(g, json);
            CompiledGraph fromJson = CompiledGraph.compile(KilnReader.load(json), CompileOptions.of(OptLevel.O2));
            OnnxImportTest.close(name + " from .kiln.json", tuned, Tensor.wrap(fromJson.run(List.of(x.data())).get(0)), 1e-5);

            // -> ONNX again, run by ONNX Runtime
            byte[] onnx = Onnx.toBytes(g);
            String input = g.inputs().get(0).name();
            Map<String, Tensor> in = new HashMap<>();
            in.put(input, x);
            float[] ort = OnnxExportTest.ort(onnx, in);
            OnnxExportTest.same(name + " in ONNX Runtime", tuned, ort, 1e-4f);

            // and back into Kiln
            Path again = dir.resolve(name + ".again.onnx");
            Files.write(again, onnx);
            CompiledGraph reimported = CompiledGraph.compile(Onnx.load(again, LoadLimits.defaults(), fixed), CompileOptions.of(OptLevel.O2));
            OnnxImportTest.close(name + " re-imported", tuned, Tensor.wrap(reimported.run(List.of(x.data())).get(0)), 1e-4);
        }));
    }
}
