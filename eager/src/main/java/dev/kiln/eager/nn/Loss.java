package dev.kiln.eager.nn;

import dev.kiln.eager.Tensor;

/** A loss module: {@code forward(input, target)}. */
public abstract class Loss extends Module {
    public abstract Tensor forward(Tensor input, Tensor target);

    @Override
    public Tensor forward(Tensor... inputs) {
        if (inputs.length != 2) throw new IllegalArgumentException(describe() + ": expected (input, target), got " + inputs.length + " tensor(s)");
        return forward(inputs[0], inputs[1]);
    }

    @Override
    public Tensor forward(Tensor input) {
        throw new IllegalArgumentException(describe() + ": a loss needs (input, target), got only the input " + input.typeString());
    }
}
