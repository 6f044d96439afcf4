package dev.kiln.cli;

import dev.kiln.backend.Strided;
import dev.kiln.eager.Device;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import java.util.List;

/**
 * How `kiln run` and `kiln bench` execute a model: O1/O2 compile it once (passes, fusion,
 * planned buffers, as `kiln serve` does), O0 runs the reference interpreter node by node (the
 * oracle, for comparing). With a device (`--device cuda`) the compiled graph runs there, each run
 * ending when the device has finished, so `bench` times the GPU's work and not only its queueing.
 */
interface Executor {
    List<Strided> run(List<Strided> inputs);

    String describe();

    static Executor of(Graph g, OptLevel level) { return of(g, level, Device.cpu()); }

    static Executor of(Graph g, OptLevel level, Device device) {
        if (!device.isCpu()) {
            if (level == OptLevel.O0) {
                throw new CliErrors.UsageException("--optimize O0 is the reference interpreter, which runs on the CPU only; use O1 or O2 with --device " + device);
            }
            CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(level).withDevice(device.executor()));
            return new Executor() {
                public List<Strided> run(List<Strided> in) {
                    List<Strided> out = c.run(in);
                    device.synchronize();
                    return out;
                }

                public String describe() { return "compiled plan (" + level + ") on " + device; }
            };
        }
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
