package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** Runs its modules in order; they are named "0", "1", ... in the state dict. */
public class Sequential extends Module {
    private int size;

    public Sequential(Module... modules) {
        for (Module m : modules) add(m);
    }

    public Sequential add(Module m) {
        registerModule(Integer.toString(size++), m);
        return this;
    }

    public Module get(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("Sequential: index " + i + " is out of range for " + size + " modules");
        return namedChildren().get(Integer.toString(i));
    }

    public int size() { return size; }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (Module m : children()) y = m.call(y);
        return y;
    }
}
