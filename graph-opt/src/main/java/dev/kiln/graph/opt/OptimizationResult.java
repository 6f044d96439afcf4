package dev.kiln.graph.opt;

import dev.kiln.graph.Graph;

/** The optimized graph and the report of how it got there. */
public record OptimizationResult(Graph graph, PassReport report) {}
