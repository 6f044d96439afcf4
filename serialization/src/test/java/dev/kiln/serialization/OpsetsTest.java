package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.op.Op;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every op has the opset it came in; the writer declares the smallest opset a graph needs. */
class OpsetsTest {
    @Test
    void everyOpHasAnOpsetNoNewerThanTheReaders() {
        for (Op op : Op.values()) {
            int v = Opsets.introduced(op);
            assertTrue(v >= 1 && v <= FormatVersion.OPSET, op.opName() + " is in opset " + v + "; a new op goes into a new opset in Opsets");
        }
        assertEquals(Op.values().length, Opsets.introducedIn(1).size() + Opsets.introducedIn(2).size() + Opsets.introducedIn(3).size()
                + Opsets.introducedIn(4).size() + Opsets.introducedIn(5).size());
        assertEquals(List.of(Op.GELU_BACKWARD, Op.LAYER_NORM, Op.LAYER_NORM_GRAD), Opsets.introducedIn(3));
        assertEquals(List.of(Op.SOFTMAX_BACKWARD), Opsets.introducedIn(4));
        assertEquals(List.of(Op.SCALED_DOT_PRODUCT_ATTENTION_BACKWARD), Opsets.introducedIn(5));
    }

    @Test
    void opset2IsWhatCameAfterTheFormatsBeforeControlFlow() {
        assertEquals(List.of(Op.SCALED_DOT_PRODUCT_ATTENTION, Op.SCALED_DOT_PRODUCT_ATTENTION_GRAD, Op.MAX_POOL2D, Op.COND, Op.WHILE_LOOP, Op.SCAN),
                Opsets.introducedIn(2));
        // ops added after opset 1's first version but written as opset 1 by the 1.0 to 1.2 writers stay there
        for (Op op : List.of(Op.CONV2D, Op.CONV_TRANSPOSE2D, Op.CONV2D_WEIGHT_GRAD, Op.MAX_POOL2D_INDICES, Op.RAND_LIKE, Op.EXPAND_AS, Op.SIZE, Op.UNFLATTEN)) {
            assertEquals(1, Opsets.introduced(op), op.opName());
        }
    }

    @Test
    void theRequiredOpsetLooksIntoBodies() {
        assertEquals(1, Opsets.required(SmallModels.mlp()));
        assertEquals(2, Opsets.required(ControlFlowModels.rnn().graph()));
        // bodies count: the outer scan's body needs opset 2 for its own scan, the inner body only opset 1
        assertEquals(1, Opsets.required(ControlFlowModels.nestedScan().graph().nodes().get(0).bodies().get(0).nodes().get(0).bodies().get(0)));
        assertEquals(2, Opsets.required(ControlFlowModels.nestedScan().graph().nodes().get(0).bodies().get(0)));
    }
}
