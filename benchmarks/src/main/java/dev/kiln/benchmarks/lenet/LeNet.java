package dev.kiln.benchmarks.lenet;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Conv2d;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.functional.F;

/** The LeNet-5 of ../shared/bench/torch_bench.py: conv(1->6,5,pad 2)-relu-pool2-conv(6->16,5)-relu-pool2-400-120-84-10. */
public final class LeNet extends Module {
    private final Conv2d c1 = registerModule("c1", new Conv2d(1, 6, 5, 1, 2));
    private final Conv2d c2 = registerModule("c2", new Conv2d(6, 16, 5));
    private final Linear f1 = registerModule("f1", new Linear(400, 120));
    private final Linear f2 = registerModule("f2", new Linear(120, 84));
    private final Linear f3 = registerModule("f3", new Linear(84, 10));

    @Override
    public Tensor forward(Tensor x) {
        x = F.maxPool2d(c1.call(x).relu(), 2);
        x = F.maxPool2d(c2.call(x).relu(), 2);
        return f3.call(f2.call(f1.call(x.flatten(1)).relu()).relu());
    }
}
