package dev.kiln.cli;

import dev.kiln.backend.Strided;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import java.util.List;

/**
 * How `kiln run` and `kiln bench` execute a model: O1/O2 compile it once (passes, fusion,
 * planned buffers, as `kiln serve` does), O0 runs the reference interpreter node by node (the
 * oracle, for comparing).
 */
interface Executor {
    List<Strided> run(List<Strided> inputs);

    String describe();

    static Executor of(Graph g, OptLevel level) {
        if (level == OptLevel.O0) {
            return new Executor() {
                public List<Strided> run(List<Strided> in) { return ReferenceInterpreter.run(g, in); }

                public String describe() { return "reference interpreter (O0)"; }
            };
        }
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(level));
        return new Executor() {
            public List<Strided> run(List<Strided> in) { return c.run(in); }

            public String describe() { return "compiled plan (" + level + ")"; }
        };
    }
}
