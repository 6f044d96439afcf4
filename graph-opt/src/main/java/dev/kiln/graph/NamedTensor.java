package dev.kiln.graph;

import dev.kiln.backend.Strided;
import dev.kiln.backend.shape.TensorType;

/** A parameter, buffer or constant of a graph: name, static type and data. */
public record NamedTensor(String name, TensorType type, Strided data) {}
