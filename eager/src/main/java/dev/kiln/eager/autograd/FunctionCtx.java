package dev.kiln.eager.autograd;

import dev.kiln.eager.Tensor;
import java.util.HashMap;
import java.util.Map;

/** The context a custom {@link Function} saves into during forward and reads in backward. */
public final class FunctionCtx {
    private Tensor[] saved = new Tensor[0];
    private int[] savedVersions = new int[0];
    private final Map<String, Object> values = new HashMap<>();
    private boolean[] needsInputGrad = new boolean[0];
    boolean nonDifferentiableOutput;
    private boolean released;
    private String owner = "Function";

    void setup(String owner, boolean[] needs) {
        this.owner = owner;
        this.needsInputGrad = needs;
    }

    public void saveForBackward(Tensor... tensors) {
        saved = tensors.clone();
        savedVersions = new int[tensors.length];
        for (int i = 0; i < tensors.length; i++) savedVersions[i] = tensors[i].version();
    }

    /** The saved tensors; fails if any was modified in place since it was saved. */
    public Tensor[] savedTensors() {
        if (released) {
            throw new IllegalStateException("Trying to backward through " + owner + " a second time: its saved tensors were freed; "
                    + "use retainGraph=true on the first backward");
        }
        for (int i = 0; i < saved.length; i++) {
            if (saved[i].version() != savedVersions[i]) {
                throw new IllegalStateException("one of the tensors needed for gradient computation has been modified by an in-place operation: "
                        + owner + " saved tensor " + i + " " + saved[i].typeString() + " is at version " + saved[i].version()
                        + "; expected version " + savedVersions[i]);
            }
        }
        return saved.clone();
    }

    /** Whether input i needs a gradient. */
    public boolean needsInputGrad(int i) { return needsInputGrad[i]; }

    /** Marks the output as not differentiable (e.g. an index); it will not require grad. */
    public void markNonDifferentiable() { nonDifferentiableOutput = true; }

    public void put(String key, Object value) { values.put(key, value); }

    @SuppressWarnings("unchecked")
    public <T> T get(String key) { return (T) values.get(key); }

    void release() {
        released = true;
        saved = new Tensor[0];
    }
}
