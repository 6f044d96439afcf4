package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.nn.init.Init;

/** A lookup table [num, dim], initialized N(0, 1); the padding row starts at zero and gets no gradient. */
public class Embedding extends Module {
    public final int numEmbeddings, embeddingDim;
    public final Integer paddingIdx;
    public final Tensor weight;

    public Embedding(int numEmbeddings, int embeddingDim) { this(numEmbeddings, embeddingDim, null); }

    public Embedding(int numEmbeddings, int embeddingDim, Integer paddingIdx) {
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        this.paddingIdx = paddingIdx == null ? null : paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
        if (this.paddingIdx != null && (this.paddingIdx < 0 || this.paddingIdx >= numEmbeddings)) {
            throw new IllegalArgumentException("Embedding: padding_idx " + paddingIdx + " must be within num_embeddings " + numEmbeddings);
        }
        this.weight = registerParameter("weight", Tensor.zeros(numEmbeddings, embeddingDim));
        Init.normal_(weight, 0, 1);
        if (this.paddingIdx != null) {
            try (var ng = Autograd.noGrad()) {
                weight.select(0, this.paddingIdx).detach().fill_(0);
            }
        }
    }

    @Override
    public Tensor forward(Tensor indices) { return F.embedding(indices, weight, paddingIdx); }

    @Override
    protected String extraRepr() { return numEmbeddings + ", " + embeddingDim + (paddingIdx != null ? ", padding_idx=" + paddingIdx : ""); }
}
