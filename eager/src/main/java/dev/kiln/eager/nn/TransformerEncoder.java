package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import java.util.function.Supplier;

/**
 * torch.nn.TransformerEncoder: {@code numLayers} encoder layers ({@code layers.0.*},
 * {@code layers.1.*}, ...), each made by {@code layer} (PyTorch deep-copies one layer; each made
 * here is initialized on its own), then an optional final norm ({@code norm.*}).
 */
public class TransformerEncoder extends Module {
    public final ModuleList layers;
    public final Module norm;

    public TransformerEncoder(Supplier<TransformerEncoderLayer> layer, int numLayers, Module norm) {
        if (numLayers <= 0) throw new IllegalArgumentException("TransformerEncoder: num_layers must be positive, got " + numLayers);
        this.layers = registerModule("layers", new ModuleList());
        for (int i = 0; i < numLayers; i++) layers.add(layer.get());
        this.norm = norm == null ? null : registerModule("norm", norm);
    }

    @Override
    public Tensor forward(Tensor src) { return forward(src, null, null); }

    /** PyTorch's forward(src, mask, src_key_padding_mask). */
    public Tensor forward(Tensor src, Tensor mask, Tensor srcKeyPaddingMask) {
        Tensor x = src;
        for (Module m : layers) x = ((TransformerEncoderLayer) m).forward(x, mask, srcKeyPaddingMask);
        return norm == null ? x : norm.call(x);
    }
}
