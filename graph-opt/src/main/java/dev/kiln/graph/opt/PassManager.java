package dev.kiln.graph.opt;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.Verifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs the passes of a level in rounds until none changes the graph (one pass often exposes
 * work for another: folding creates dead constants, simplification creates CSE candidates).
 * Any pass can be switched off (or on, above its level) by name; the graph can be dumped before
 * and after each pass, and verified after each one (tests always do).
 */
public final class PassManager {
    private final OptLevel level;
    private final Set<String> disabled;
    private final Set<String> enabled;
    private final boolean freezeParams;
    private final boolean verify;
    private final Consumer<String> dump;
    private final Path dumpDir;
    private final int maxRounds;

    private PassManager(Builder b) {
        level = b.level;
        disabled = Set.copyOf(b.disabled);
        enabled = Set.copyOf(b.enabled);
        freezeParams = b.freezeParams;
        verify = b.verify;
        dump = b.dump;
        dumpDir = b.dumpDir;
        maxRounds = b.maxRounds;
    }

    public static Builder builder() { return new Builder(); }

    /** The default pipeline of a level, before switches. */
    public static List<String> passNames(OptLevel level) {
        return switch (level) {
            case O0 -> List.of();
            case O1 -> List.of("simplify", "captures", "fold", "cse", "dce");
            case O2 -> List.of("simplify", "inference", "captures", "fold", "bnfold", "cse", "dce");
        };
    }

    /** The passes this manager runs, in order. */
    public List<Pass> passes() {
        List<String> names = new ArrayList<>(passNames(level));
        for (String n : List.of("simplify", "inference", "captures", "fold", "bnfold", "cse", "dce")) {
            if (enabled.contains(n) && !names.contains(n)) names.add(n);
        }
        names.removeAll(disabled);
        List<Pass> out = new ArrayList<>();
        for (String n : names) out.add(create(n));
        return out;
    }

    private Pass create(String name) {
        return switch (name) {
            case "simplify" -> new AlgebraicSimplification();
            case "inference" -> new InferenceRewrites();
            case "fold" -> new ConstantFolding(freezeParams);
            case "captures" -> new CaptureInlining(freezeParams);
            case "cse" -> new CommonSubexpressionElimination();
            case "dce" -> new DeadCodeElimination();
            case "bnfold" -> new AffineFolding(freezeParams);
            default -> throw new IllegalArgumentException("unknown pass '" + name + "' (expected captures, simplify, inference, fold, bnfold, cse or dce)");
        };
    }

    public OptimizationResult run(Graph g) {
        List<Pass> passes = passes();
        List<PassReport.Entry> entries = new ArrayList<>();
        if (verify) Verifier.verify(g);
        int step = 0;
        for (int round = 1; round <= maxRounds; round++) {
            boolean any = false;
            for (Pass p : passes) {
                step++;
                emit(step, p.name(), "before", g);
                long t0 = System.nanoTime();
                PassResult r = runWithBodies(p, g);
                long dt = System.nanoTime() - t0;
                if (verify) {
                    try {
                        Verifier.verify(r.graph());
                    } catch (GraphException e) {
                        throw new GraphException("after pass " + p.name() + " (round " + round + "): " + e.getMessage() + "\nbefore:\n" + g + "after:\n" + r.graph(), e);
                    }
                }
                emit(step, p.name(), "after", r.graph());
                entries.add(new PassReport.Entry(round, p.name(), dt, r.changed(), r.stats(), g.nodes().size(), r.graph().nodes().size()));
                any |= r.changed();
                g = r.graph();
            }
            if (!any) break;
        }
        return new OptimizationResult(g, new PassReport(entries));
    }

    /**
     * Runs a pass on every control-flow body first (depth first: a body's bodies before it), then
     * on the graph. A body is a graph like any other; passes never change its inputs or outputs,
     * so its node stays well typed.
     */
    static PassResult runWithBodies(Pass p, Graph g) {
        boolean bodiesChanged = false;
        Graph current = g;
        if (g.nodes().stream().anyMatch(n -> !n.bodies().isEmpty())) {
            dev.kiln.graph.GraphBuilder b = g.rebuild();
            for (dev.kiln.graph.Node n : g.nodes()) {
                if (n.bodies().isEmpty()) {
                    b.addNode(n);
                    continue;
                }
                List<Graph> bodies = new ArrayList<>();
                for (Graph body : n.bodies()) {
                    PassResult r = runWithBodies(p, body);
                    bodiesChanged |= r.changed();
                    bodies.add(r.graph());
                }
                b.addNode(n.withBodies(bodies));
            }
            for (dev.kiln.graph.Value v : g.outputs()) b.output(v);
            if (bodiesChanged) current = b.build();
        }
        PassResult top = p.run(current);
        return bodiesChanged && !top.changed() ? new PassResult(top.graph(), true, top.stats()) : top;
    }

    private void emit(int step, String pass, String when, Graph g) {
        if (dump == null && dumpDir == null) return;
        String text = g.toString();
        if (dump != null) dump.accept("=== " + when + " " + pass + " (step " + step + ") ===\n" + text);
        if (dumpDir != null) {
            try {
                Files.createDirectories(dumpDir);
                Files.writeString(dumpDir.resolve(String.format("%03d-%s-%s.txt", step, pass, when)), text);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot dump the graph to " + dumpDir, e);
            }
        }
    }

    public static final class Builder {
        private OptLevel level = OptLevel.O1;
        private final Set<String> disabled = new HashSet<>();
        private final Set<String> enabled = new HashSet<>();
        private boolean freezeParams;
        private boolean verify;
        private Consumer<String> dump;
        private Path dumpDir;
        private int maxRounds = 4;

        public Builder level(OptLevel l) { level = l; return this; }

        /** Switches a pass off by name, whatever the level. */
        public Builder disable(String pass) { disabled.add(pass); enabled.remove(pass); return this; }

        /** Switches a pass on by name, even above the chosen level. */
        public Builder enable(String pass) { enabled.add(pass); disabled.remove(pass); return this; }

        /** Treats parameters as constants (inference): folding may then evaluate weight-only subgraphs. */
        public Builder freezeParams(boolean f) { freezeParams = f; return this; }

        /** Runs the verifier on the input and after every pass. */
        public Builder verify(boolean v) { verify = v; return this; }

        /** Receives the graph text before and after every pass. */
        public Builder dump(Consumer<String> sink) { dump = sink; return this; }

        /** Writes the graph text before and after every pass as NNN-pass-before/after.txt files. */
        public Builder dumpTo(Path dir) { dumpDir = dir; return this; }

        public Builder maxRounds(int n) { maxRounds = Math.max(1, n); return this; }

        public PassManager build() {
            PassManager pm = new PassManager(this);
            pm.passes(); // unknown names fail here, not at the first run
            return pm;
        }
    }
}
