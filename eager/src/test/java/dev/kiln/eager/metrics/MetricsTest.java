package dev.kiln.eager.metrics;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {
    // actual:    0 0 0 1 1 2 2 2 2 2
    // predicted: 0 1 0 1 2 2 2 0 2 1
    static final long[] ACTUAL = {0, 0, 0, 1, 1, 2, 2, 2, 2, 2};
    static final long[] PREDICTED = {0, 1, 0, 1, 2, 2, 2, 0, 2, 1};

    @Test
    void confusionMatrixByHand() {
        ConfusionMatrix m = new ConfusionMatrix(3).update(PREDICTED, ACTUAL);
        assertArrayEquals(new long[][] {{2, 1, 0}, {0, 1, 1}, {1, 1, 3}}, m.counts());
        assertEquals(0.6, m.accuracy(), 1e-12);
        // class 0: predicted 3 times, 2 right; 3 actual, 2 found
        assertEquals(2 / 3.0, m.precision(0), 1e-12);
        assertEquals(2 / 3.0, m.recall(0), 1e-12);
        // class 1: predicted 3 times, 1 right; 2 actual, 1 found
        assertEquals(1 / 3.0, m.precision(1), 1e-12);
        assertEquals(0.5, m.recall(1), 1e-12);
        assertEquals(2 * (1 / 3.0) * 0.5 / (1 / 3.0 + 0.5), m.f1(1), 1e-12);
        // class 2: predicted 4 times, 3 right; 5 actual, 3 found
        assertEquals(0.75, m.precision(2), 1e-12);
        assertEquals(0.6, m.recall(2), 1e-12);
        assertEquals(2 * 0.75 * 0.6 / 1.35, m.f1(2), 1e-12);
        assertEquals((2 / 3.0 + 0.4 + 2 * 0.75 * 0.6 / 1.35) / 3, m.macroF1(), 1e-12);
    }

    @Test
    void fromTensorsWithScoresAndAccumulation() {
        Tensor scores = Tensor.of(new float[] {0.1f, 0.9f, 0.0f, 2f, 1f, 0f, 0f, 0f, 5f}, 3, 3);
        Tensor targets = Tensor.of(new long[] {1, 1, 2}, 3);
        assertEquals(2 / 3.0, Accuracy.of(scores, targets), 1e-12);
        assertEquals(1.0, Accuracy.of(Tensor.of(new long[] {1, 0, 2}, 3), Tensor.of(new long[] {1, 0, 2}, 3)));
        ConfusionMatrix m = ConfusionMatrix.of(scores, targets, 3).update(Tensor.of(new long[] {0}, 1), Tensor.of(new long[] {0}, 1));
        assertArrayEquals(new long[][] {{1, 0, 0}, {1, 1, 0}, {0, 0, 1}}, m.counts());
        assertEquals(0.0, new ConfusionMatrix(2).precision(1), "no predictions: 0, not NaN");
    }

    @Test
    void formattedTableWithClassNames() {
        String table = new ConfusionMatrix(3).update(PREDICTED, ACTUAL).format(List.of("cat", "dog", "bird"));
        String expected = String.join("\n",
                "actual \\ predicted    cat    dog   bird",
                "cat                     2      1      0",
                "dog                     0      1      1",
                "bird                    1      1      3",
                "",
                "class               precision  recall      f1  support",
                "cat                    0.6667  0.6667  0.6667        3",
                "dog                    0.3333  0.5000  0.4000        2",
                "bird                   0.7500  0.6000  0.6667        5",
                "",
                "accuracy 0.6000 over 10 samples, macro F1 0.5778",
                "");
        assertEquals(expected, table);
    }

    @Test
    void badInputIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ConfusionMatrix(3).update(new long[] {0, 3}, new long[] {0, 1}));
        assertEquals("ConfusionMatrix: prediction 1 is class 3, outside [0, 3)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Accuracy.of(Tensor.of(new long[] {1, 2}, 2), Tensor.of(new long[] {1}, 1)));
        assertEquals("accuracy: 2 predictions but 1 targets", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ConfusionMatrix(2).format(List.of("a")));
        assertTrue(e.getMessage().contains("1 class names for 2 classes"));
    }
}
