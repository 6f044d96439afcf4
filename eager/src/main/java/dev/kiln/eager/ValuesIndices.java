package dev.kiln.eager;

/** The (values, indices) pair returned by max(dim), min(dim), sort and topk. */
public record ValuesIndices(Tensor values, Tensor indices) {}
