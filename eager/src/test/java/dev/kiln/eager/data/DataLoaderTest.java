package dev.kiln.eager.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.data.transforms.Compose;
import dev.kiln.eager.data.transforms.RandomCrop;
import dev.kiln.eager.data.transforms.RandomHorizontalFlip;
import dev.kiln.eager.random.Generator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DataLoaderTest {
    /** 10 samples: x[i] = [i, 10 + i], y[i] = i. */
    static TensorDataset numbers(int n) {
        float[] x = new float[2 * n];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = 10 + i;
            y[i] = i;
        }
        return new TensorDataset(Tensor.of(x, n, 2), Tensor.of(y, n));
    }

    /** Slow, uneven samples so that workers finish batches out of order. */
    static Dataset<List<Tensor>> slow(Dataset<List<Tensor>> d) {
        return new Dataset<>() {
            public int size() { return d.size(); }

            public List<Tensor> get(int index) { return get(index, 0); }

            public List<Tensor> get(int index, long seed) {
                try {
                    Thread.sleep((index * 7) % 5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return d.get(index, seed);
            }
        };
    }

    static List<String> epoch(DataLoader<List<Tensor>, List<Tensor>> loader) {
        List<String> out = new ArrayList<>();
        for (List<Tensor> b : loader) out.add(Arrays.toString(b.get(0).toFloatArray()) + Arrays.toString(b.get(1).toLongArray()));
        return out;
    }

    @Test
    void batchesInOrderWithPartialLastBatch() {
        try (var loader = DataLoader.builder(numbers(10)).batchSize(3).build()) {
            assertEquals(4, loader.size());
            List<List<Tensor>> batches = new ArrayList<>();
            loader.forEach(batches::add);
            assertEquals(4, batches.size());
            assertArrayEquals(new int[] {3, 2}, batches.get(0).get(0).shape());
            assertArrayEquals(new long[] {0, 1, 2}, batches.get(0).get(1).toLongArray());
            assertArrayEquals(new long[] {9}, batches.get(3).get(1).toLongArray());
            assertArrayEquals(new float[] {9, 19}, batches.get(3).get(0).toFloatArray());
        }
        try (var loader = DataLoader.builder(numbers(10)).batchSize(3).dropLast(true).build()) {
            assertEquals(3, loader.size());
            assertEquals(3, epoch(loader).size());
        }
    }

    @Test
    void shuffleCoversEverySampleOnceAndChangesPerEpoch() {
        try (var loader = DataLoader.builder(numbers(23)).batchSize(4).shuffle(true).generator(new Generator(7)).build()) {
            List<Long> seen = new ArrayList<>();
            for (List<Tensor> b : loader) for (long v : b.get(1).toLongArray()) seen.add(v);
            assertEquals(23, new HashSet<>(seen).size());
            assertEquals(23, seen.size());
            List<Long> second = new ArrayList<>();
            for (List<Tensor> b : loader) for (long v : b.get(1).toLongArray()) second.add(v);
            assertNotEquals(seen, second, "each epoch draws a new order");
        }
    }

    /** Same generator seed: identical batch order and augmented content whatever the worker count. */
    @Test
    void deterministicWhateverTheWorkerCount() {
        int n = 20;
        Tensor images = Tensor.arange(0, n * 2 * 5 * 5, 1).to(dev.kiln.backend.DType.FLOAT32).reshape(n, 2, 5, 5);
        Tensor labels = Tensor.arange(n);
        Dataset<List<Tensor>> augmented = new TransformedDataset(slow(new TensorDataset(images, labels)),
                new Compose(new RandomCrop(5, 2), new RandomHorizontalFlip(0.5)));
        List<List<String>> runs = new ArrayList<>();
        for (int workers : new int[] {0, 1, 3}) {
            try (var loader = DataLoader.builder(augmented).batchSize(3).shuffle(true).generator(new Generator(42)).numWorkers(workers).build()) {
                List<String> twoEpochs = new ArrayList<>(epoch(loader));
                twoEpochs.addAll(epoch(loader));
                runs.add(twoEpochs);
            }
        }
        assertEquals(runs.get(0), runs.get(1), "1 worker vs none");
        assertEquals(runs.get(0), runs.get(2), "3 workers vs none");
        assertNotEquals(runs.get(0).subList(0, 7), runs.get(0).subList(7, 14), "augmentations and order differ between epochs");
    }

    @ParameterizedTest(name = "{0} workers")
    @ValueSource(ints = {0, 1, 3})
    void workerExceptionsNameTheSample(int workers) {
        TensorDataset base = numbers(12);
        Dataset<List<Tensor>> failing = new Dataset<>() {
            public int size() { return base.size(); }

            public List<Tensor> get(int index) {
                if (index == 7) throw new IllegalStateException("corrupt record");
                return base.get(index);
            }
        };
        try (var loader = DataLoader.builder(failing).batchSize(4).numWorkers(workers).build()) {
            var it = loader.iterator();
            assertArrayEquals(new long[] {0, 1, 2, 3}, it.next().get(1).toLongArray());
            DataLoaderException e = assertThrows(DataLoaderException.class, it::next);
            assertEquals(7, e.sampleIndex());
            assertEquals(1, e.batchIndex());
            assertTrue(e.getMessage().contains("loading sample 7 (batch 1) failed") && e.getMessage().contains("corrupt record"), e.getMessage());
            assertFalse(it.hasNext(), "a failed epoch stops");
        }
    }

    @Test
    void customCollateAndClose() {
        DataLoader<List<Tensor>, Long> loader = DataLoader.builder((Dataset<List<Tensor>>) numbers(6), (List<List<Tensor>> samples) -> {
            long s = 0;
            for (List<Tensor> sample : samples) s += sample.get(1).itemLong();
            return s;
        }).batchSize(4).numWorkers(2).build();
        List<Long> sums = new ArrayList<>();
        loader.forEach(sums::add);
        assertEquals(List.of(0L + 1 + 2 + 3, 4L + 5), sums);
        loader.close();
        var e = assertThrows(IllegalStateException.class, loader::iterator);
        assertEquals("DataLoader is closed", e.getMessage());
    }

    @Test
    void collateRejectsRaggedSamples() {
        Dataset<List<Tensor>> ragged = new Dataset<>() {
            public int size() { return 2; }

            public List<Tensor> get(int i) { return List.of(Tensor.zeros(i + 1)); }
        };
        try (var loader = DataLoader.builder(ragged).batchSize(2).build()) {
            DataLoaderException e = assertThrows(DataLoaderException.class, () -> loader.iterator().next());
            assertTrue(e.getMessage().contains("field 0 of sample 1 is f32[2], sample 0 has f32[1]"), e.getMessage());
            assertEquals(-1, e.sampleIndex());
        }
    }

    @Test
    void datasetsAndSplits() {
        TensorDataset d = numbers(11);
        List<Subset<List<Tensor>>> parts = Datasets.randomSplit(d, new double[] {0.5, 0.3, 0.2}, new Generator(3));
        assertEquals(List.of(6, 3, 2), parts.stream().map(Subset::size).toList(), "floor lengths 5,3,2 plus the remainder to the first");
        Set<Integer> all = new HashSet<>();
        for (Subset<List<Tensor>> s : parts) for (int i : s.indices()) assertTrue(all.add(i));
        assertEquals(11, all.size());
        List<Subset<List<Tensor>>> again = Datasets.randomSplit(d, new int[] {6, 3, 2}, new Generator(3));
        assertArrayEquals(parts.get(1).indices(), again.get(1).indices(), "same seed, same split");
        assertEquals(parts.get(2).indices()[1], parts.get(2).get(1).get(1).itemLong());
        var e = assertThrows(IllegalArgumentException.class, () -> Datasets.randomSplit(d, new int[] {5, 5}, new Generator(1)));
        assertTrue(e.getMessage().contains("= 10 does not equal the length of the input dataset (11)"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> new TensorDataset(Tensor.zeros(3, 2), Tensor.zeros(4)));
        assertTrue(e2.getMessage().contains("tensor 0 has 3 samples"), e2.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> d.get(11));
    }
}
