package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;
import java.util.function.Supplier;

/** torch.nn.TransformerDecoder: {@code numLayers} decoder layers ({@code layers.N.*}), then an optional final norm ({@code norm.*}). */
public class TransformerDecoder extends Module {
    public final ModuleList layers;
    public final Module norm;

    public TransformerDecoder(Supplier<TransformerDecoderLayer> layer, int numLayers, Module norm) {
        if (numLayers <= 0) throw new IllegalArgumentException("TransformerDecoder: num_layers must be positive, got " + numLayers);
        this.layers = registerModule("layers", new ModuleList());
        for (int i = 0; i < numLayers; i++) layers.add(layer.get());
        this.norm = norm == null ? null : registerModule("norm", norm);
    }

    /** PyTorch's forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask). */
    public Tensor forward(Tensor tgt, Tensor memory, Tensor tgtMask, Tensor memoryMask, Tensor tgtKeyPaddingMask, Tensor memoryKeyPaddingMask) {
        Tensor x = tgt;
        for (Module m : layers) x = ((TransformerDecoderLayer) m).forward(x, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask);
        return norm == null ? x : norm.call(x);
    }

    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length != 2) throw new IllegalArgumentException("TransformerDecoder: forward(tgt, memory) takes 2 tensors, got " + inputs.length);
        return forward(inputs[0], inputs[1], null, null, null, null);
    }
}
