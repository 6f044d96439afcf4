package dev.kiln.tests.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.Dropout;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.graph.Graph;
import dev.kiln.graph.TrainingArtifacts;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serialization.LoadLimits;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Outputs carry names that survive tracing, optimization, the JSON artifact (format 1.2) and
 * compilation; files from before 1.2 keep the node-id names their clients knew; a graph traced
 * in train mode is flagged.
 */
class OutputNamesTest {
    static Graph traced(String... names) {
        Sequential m = new Sequential(new Linear(4, 3));
        m.eval();
        try (var ng = Autograd.noGrad()) {
            return Tracer.traceMulti(in -> new Tensor[] {m.call(in[0]), m.call(in[0]).softmax(1)}, new Tensor[] {Tensor.randn(2, 4)},
                    TraceOptions.builder().name("two").dynamic(0, 0, "N").params(m.namedParameters()).outputNames(names).build());
        }
    }

    @Test
    void namesSurviveTheArtifactAndOptimization() {
        Graph g = traced("logits", "probs");
        assertEquals(List.of("logits", "probs"), g.outputNames());
        assertTrue(g.toString().contains("# as logits, probs"), g.toString());
        Graph back = KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph();
        assertEquals(List.of("logits", "probs"), back.outputNames());
        assertEquals(List.of("logits", "probs"), CompiledGraph.compile(back, CompileOptions.of(OptLevel.O2)).graph().outputNames());
        assertEquals(List.of("output0", "output1"), traced().outputNames(), "the default");
        assertEquals(List.of("logits", "output1"), traced("logits").outputNames());
    }

    @Test
    void aFileBeforeVersion12KeepsItsNodeIdNames() {
        Graph g = traced("a", "b");
        String json = new String(KilnWriter.toJson(g), StandardCharsets.UTF_8)
                .replace("\"version\" : \"1.3\"", "\"version\" : \"1.1\"").replaceAll("\"name\" : \"[ab]\",\\s*", "");
        Graph old = KilnReader.fromJson(json.getBytes(StandardCharsets.UTF_8), LoadLimits.defaults()).graph();
        assertEquals(List.of(g.outputs().get(0).name(), g.outputs().get(1).name()), old.outputNames());
    }

    @Test
    void duplicateNamesAreRefused() {
        Exception e = assertThrows(RuntimeException.class, () -> traced("y", "y"));
        assertTrue(e.getMessage().contains("two outputs are named 'y'"), e.getMessage());
    }

    @Test
    void aTrainModeTraceIsFlagged() {
        Sequential m = new Sequential(new Linear(4, 3), new Dropout(0.5)); // left in train mode
        Graph g = Tracer.trace(m, new Tensor[] {Tensor.randn(2, 4)}, TraceOptions.builder().name("drop").build());
        List<String> w = TrainingArtifacts.of(g);
        assertEquals(2, w.size(), w.toString());
        assertTrue(w.get(0).contains("traced in train mode") && w.get(1).contains("draws random numbers"), w.toString());
        m.eval();
        assertTrue(TrainingArtifacts.of(Tracer.trace(m, new Tensor[] {Tensor.randn(2, 4)}, TraceOptions.builder().name("ok").build())).isEmpty());
    }
}
