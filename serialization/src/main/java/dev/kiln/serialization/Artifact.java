package dev.kiln.serialization;

import dev.kiln.graph.Graph;

/** A loaded artifact: the verified graph and the header fields that are not part of the IR. */
public record Artifact(Graph graph, FormatVersion version, int opset, String producer) {}
