package dev.kiln.graph;

import dev.kiln.backend.op.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * What makes a graph a poor deployment: traced in train mode (dropout with a mask drawn per
 * run, batch norm updating and using batch statistics) or drawing random numbers. Such a graph
 * runs, but it is rarely what a served model should do; the tracer warns when it makes one and
 * {@code kiln inspect}, {@code run} and {@code serve} say so when they load one.
 */
public final class TrainingArtifacts {
    private TrainingArtifacts() {}

    /** One line per finding (empty when there is nothing to say). */
    public static List<String> of(Graph g) {
        List<String> found = new ArrayList<>();
        for (Assumption a : g.assumptions()) {
            if (a.kind().equals("mode") && a.description().contains("train mode")) {
                found.add("graph '" + g.name() + "' was traced in train mode (" + a.description() + "); call eval() before tracing a model to deploy");
            }
        }
        long draws = g.nodes().stream().filter(n -> n.op() == Op.RAND_LIKE).count();
        if (draws > 0) {
            found.add("graph '" + g.name() + "' draws random numbers (" + draws + " rand_like node" + (draws == 1 ? "" : "s")
                    + ", e.g. train-mode dropout): its outputs differ from run to run");
        }
        return found;
    }
}
