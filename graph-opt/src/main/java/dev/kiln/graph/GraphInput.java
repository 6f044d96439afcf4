package dev.kiln.graph;

import dev.kiln.backend.shape.TensorType;

/** A graph input: name (without %) and type, whose dims may be symbolic. */
public record GraphInput(String name, TensorType type) {}
