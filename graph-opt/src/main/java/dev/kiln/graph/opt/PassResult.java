package dev.kiln.graph.opt;

import dev.kiln.graph.Graph;
import java.util.Map;

/** What one pass produced: the new graph, whether anything changed, and counts per kind of change. */
public record PassResult(Graph graph, boolean changed, Map<String, Integer> stats) {
    public PassResult {
        stats = Map.copyOf(stats);
    }

    public static PassResult unchanged(Graph g) { return new PassResult(g, false, Map.of()); }

    public int total() { return stats.values().stream().mapToInt(Integer::intValue).sum(); }
}
