package dev.kiln.eager.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.data.DataLoader;
import dev.kiln.eager.data.TensorDataset;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.SGD;
import dev.kiln.eager.optim.lr.StepLR;
import dev.kiln.eager.random.Generator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resuming from a checkpoint continues exactly as the uninterrupted run (bit for bit). */
class CheckpointResumeTest {
    @TempDir
    Path dir;

    /** Everything a run owns; rebuilt from scratch to simulate a new process. */
    private static final class Run {
        final Sequential model;
        final SGD opt;
        final StepLR sched;
        final Generator shuffle = new Generator(99);
        final DataLoader<List<Tensor>, List<Tensor>> loader;

        Run(TensorDataset data) {
            Kiln.manualSeed(7);
            model = new Sequential(new Linear(6, 12), new ReLU(), new Linear(12, 3));
            opt = SGD.builder(model.parameters()).lr(0.1).momentum(0.9).build();
            sched = new StepLR(opt, 1, 0.5);
            loader = DataLoader.builder(data).batchSize(8).shuffle(true).generator(shuffle).build();
        }

        void epoch() {
            for (List<Tensor> b : loader) {
                opt.zeroGrad();
                F.crossEntropy(model.call(b.get(0)), b.get(1)).backward();
                opt.step();
            }
            sched.step();
        }
    }

    @Test
    void twoPlusTwoEpochsEqualFour() throws IOException {
        Kiln.manualSeed(1);
        TensorDataset data = new TensorDataset(Tensor.randn(40, 6), Tensor.randint(0, 3, 40));

        Run straight = new Run(data);
        for (int e = 0; e < 4; e++) straight.epoch();

        Run first = new Run(data);
        first.epoch();
        first.epoch();
        Path ckpt = dir.resolve("run.ckpt");
        Checkpoint.save(ckpt, first.model, first.opt, first.sched, Map.of("shuffle", first.shuffle), 2);

        Run resumed = new Run(data);
        Kiln.manualSeed(12345); // a new process starts with other generator states
        int epoch = Checkpoint.load(ckpt).restore(resumed.model, resumed.opt, resumed.sched, Map.of("shuffle", resumed.shuffle));
        assertEquals(2, epoch);
        resumed.epoch();
        resumed.epoch();

        Map<String, Tensor> a = straight.model.stateDict(), b = resumed.model.stateDict();
        for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
        assertEquals(straight.sched.getLastLr()[0], resumed.sched.getLastLr()[0]);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(ckpt), files.toList(), "no temporary files are left behind");
        }
    }

    @Test
    void corruptAndTruncatedFilesAreReportedClearly() throws IOException {
        Kiln.manualSeed(2);
        Sequential m = new Sequential(new Linear(3, 2));
        Path ckpt = dir.resolve("m.ckpt");
        Checkpoint.save(ckpt, m, null, null, Map.of(), 0);
        byte[] bytes = Files.readAllBytes(ckpt);
        for (int cut : new int[] {0, 5, 12, bytes.length / 2, bytes.length - 1}) {
            Path t = dir.resolve("cut" + cut);
            Files.write(t, java.util.Arrays.copyOf(bytes, cut));
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(t));
            assertTrue(e.getMessage().contains("cut" + cut), e.getMessage());
        }
        Path bad = dir.resolve("bad");
        byte[] copy = bytes.clone();
        copy[0] = 'X';
        Files.write(bad, copy);
        assertTrue(assertThrows(CheckpointException.class, () -> Checkpoint.load(bad)).getMessage().contains("bad magic"));
        Sequential other = new Sequential(new Linear(3, 4));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(ckpt).restore(other, null, null, Map.of()));
        assertTrue(e.getMessage().contains("0.weight"), e.getMessage());
    }
}
