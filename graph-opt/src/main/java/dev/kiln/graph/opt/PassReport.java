package dev.kiln.graph.opt;

import java.util.List;
import java.util.Map;

/** What the pass manager did: one entry per pass run, in order. */
public record PassReport(List<Entry> entries) {
    public PassReport {
        entries = List.copyOf(entries);
    }

    /** One pass run: round, name, wall time, whether it changed the graph, its counts, node counts. */
    public record Entry(int round, String pass, long nanos, boolean changed, Map<String, Integer> stats, int nodesBefore, int nodesAfter) {}

    /** Sum of one pass's counts over all rounds, e.g. {@code total("dce")}. */
    public int total(String pass) {
        return entries.stream().filter(e -> e.pass().equals(pass)).flatMap(e -> e.stats().values().stream()).mapToInt(Integer::intValue).sum();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(String.format("%-5s %-10s %9s %7s  %s%n", "round", "pass", "ms", "nodes", "changes"));
        for (Entry e : entries) {
            sb.append(String.format("%-5d %-10s %9.3f %3d->%-3d  %s%n", e.round(), e.pass(), e.nanos() / 1e6, e.nodesBefore(), e.nodesAfter(),
                    e.changed() ? new java.util.TreeMap<>(e.stats()).toString() : "-"));
        }
        return sb.toString();
    }
}
