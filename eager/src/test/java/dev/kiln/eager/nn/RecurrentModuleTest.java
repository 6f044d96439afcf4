package dev.kiln.eager.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import org.junit.jupiter.api.Test;

/** Errors, printing and modes of the recurrent modules; their values are in ModuleFixtureTest. */
class RecurrentModuleTest {
    @Test
    void badShapesNameTheModuleAndBothShapes() {
        GRU gru = new GRU(4, 3, 2, true, true, 0.0, true);
        String e = assertThrows(IllegalArgumentException.class, () -> gru.forward(Tensor.randn(2, 5, 6))).getMessage();
        assertTrue(e.contains("[N,T,4]") && e.contains("[2,5,6]"), e);
        e = assertThrows(IllegalArgumentException.class, () -> gru.run(Tensor.randn(2, 5, 4), Tensor.randn(2, 2, 3))).getMessage();
        assertTrue(e.contains("initial state [4,2,3]") && e.contains("got [2,2,3]"), e);
        e = assertThrows(IllegalArgumentException.class, () -> gru.forward(Tensor.randn(2, 0, 4))).getMessage();
        assertTrue(e.contains("sequence length above 0"), e);
        LSTMCell cell = new LSTMCell(4, 3);
        e = assertThrows(IllegalArgumentException.class, () -> cell.step(Tensor.randn(2, 4), Tensor.randn(2, 3), null)).getMessage();
        assertTrue(e.contains("both h and c"), e);
        e = assertThrows(IllegalArgumentException.class, () -> cell.step(Tensor.randn(2, 4), Tensor.randn(3, 3), Tensor.randn(3, 3))).getMessage();
        assertTrue(e.contains("[2,3]") && e.contains("[3,3]"), e);
        e = assertThrows(IllegalArgumentException.class, () -> new RNN(4, 3, 1, "sigmoid", true, false, 0.0, false)).getMessage();
        assertTrue(e.contains("nonlinearity") && e.contains("sigmoid"), e);
    }

    @Test
    void parameterNamesAndShapesFollowPyTorch() {
        GRU gru = new GRU(4, 3, 2, false, false, 0.0, true);
        assertEquals("[weight_ih_l0, weight_hh_l0, weight_ih_l0_reverse, weight_hh_l0_reverse, weight_ih_l1, weight_hh_l1, weight_ih_l1_reverse, weight_hh_l1_reverse]",
                gru.namedParameters().keySet().toString());
        assertArrayEquals(new int[] {9, 6}, gru.parameter("weight_ih_l1_reverse").shape());
        assertTrue(gru.toString().contains("GRU(4, 3, num_layers=2, bias=False, bidirectional=True)"), gru.toString());
        assertEquals("[weight_ih, weight_hh, bias_ih, bias_hh]", new LSTMCell(2, 5).namedParameters().keySet().toString());
        assertArrayEquals(new int[] {20, 2}, new LSTMCell(2, 5).parameter("weight_ih").shape());
    }

    @Test
    void dropoutActsBetweenLayersOnlyWhileTraining() {
        Kiln.manualSeed(3);
        LSTM lstm = new LSTM(4, 6, 2, true, true, 0.5, false);
        Tensor x = Tensor.randn(2, 5, 4);
        Tensor a = lstm.forward(x), b = lstm.forward(x);
        assertFalse(a.allclose(b, 1e-6, 1e-6), "two training passes draw different masks");
        lstm.eval();
        assertTrue(lstm.forward(x).allclose(lstm.forward(x), 0, 0));
        LSTM single = new LSTM(4, 6, 1, true, true, 0.5, false); // nothing between layers to drop
        assertTrue(single.forward(x).allclose(single.forward(x), 0, 0));
    }

    @Test
    void anUnbatchedCellStepEqualsTheBatchedOne() {
        Kiln.manualSeed(4);
        GRUCell cell = new GRUCell(3, 4);
        Tensor x = Tensor.randn(3), h = Tensor.randn(4);
        Tensor one = cell.forward(x, h);
        assertArrayEquals(new int[] {4}, one.shape());
        assertTrue(one.allclose(cell.forward(x.unsqueeze(0), h.unsqueeze(0)).squeeze(0), 0, 0));
    }

    @Test
    void anUnbatchedSequenceEqualsABatchOfOne() {
        Kiln.manualSeed(6);
        LSTM lstm = new LSTM(3, 4, 2, true, false, 0.0, true);
        Tensor x = Tensor.randn(5, 3), h0 = Tensor.randn(4, 4), c0 = Tensor.randn(4, 4);
        LSTM.Output one = lstm.run(x, h0, c0), batched = lstm.run(x.unsqueeze(1), h0.unsqueeze(1), c0.unsqueeze(1));
        assertArrayEquals(new int[] {5, 8}, one.output().shape());
        assertArrayEquals(new int[] {4, 4}, one.h().shape());
        assertTrue(one.output().allclose(batched.output().squeeze(1), 0, 0));
        assertTrue(one.c().allclose(batched.c().squeeze(1), 0, 0));
        String e = assertThrows(IllegalArgumentException.class, () -> lstm.run(x, h0, null)).getMessage();
        assertTrue(e.contains("both h0 and c0"), e);
    }
}
