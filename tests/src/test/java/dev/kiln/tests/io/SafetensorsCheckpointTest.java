package dev.kiln.tests.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.data.DataLoader;
import dev.kiln.eager.data.TensorDataset;
import dev.kiln.eager.io.Checkpoint;
import dev.kiln.eager.io.CheckpointException;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.Adam;
import dev.kiln.eager.optim.lr.CosineAnnealingLR;
import dev.kiln.eager.random.Generator;
import dev.kiln.serialization.Safetensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints as safetensors: model, Adam's moments and step, the scheduler and the generators
 * round-trip so that a resumed run equals the uninterrupted one bit for bit; the tensors are plain
 * safetensors entries; files that are not checkpoints, or were tampered with, are refused by name.
 */
class SafetensorsCheckpointTest {
    @TempDir
    Path dir;

    private static final class Run {
        final Sequential model;
        final Adam opt;
        final CosineAnnealingLR sched;
        final Generator shuffle = new Generator(99);
        final DataLoader<List<Tensor>, List<Tensor>> loader;

        Run(TensorDataset data) {
            Kiln.manualSeed(7);
            model = new Sequential(new Linear(6, 12), new ReLU(), new Linear(12, 3));
            opt = Adam.builder(model.parameters()).lr(0.01).build();
            sched = new CosineAnnealingLR(opt, 10, 0.0);
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
    void aResumedRunEqualsTheUninterruptedOneAndTheTensorsAreSafetensorsEntries() throws IOException {
        Kiln.manualSeed(1);
        TensorDataset data = new TensorDataset(Tensor.randn(40, 6), Tensor.randint(0, 3, 40));
        Run straight = new Run(data);
        for (int e = 0; e < 4; e++) straight.epoch();

        Run first = new Run(data);
        first.epoch();
        first.epoch();
        Path ckpt = dir.resolve("run.safetensors");
        Checkpoint.save(ckpt, first.model, first.opt, first.sched, Map.of("shuffle", first.shuffle), 2);

        Run resumed = new Run(data);
        Kiln.manualSeed(12345); // another process: other generator states
        assertEquals(2, Checkpoint.load(ckpt).restore(resumed.model, resumed.opt, resumed.sched, Map.of("shuffle", resumed.shuffle)));
        resumed.epoch();
        resumed.epoch();
        Map<String, Tensor> a = straight.model.stateDict(), b = resumed.model.stateDict();
        for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
        assertEquals(straight.sched.getLastLr()[0], resumed.sched.getLastLr()[0]);

        // what Python's safetensors.torch.load_file sees: plain entries named by their path
        Map<String, Strided> entries = Safetensors.read(ckpt);
        assertTrue(entries.containsKey("model/0.weight") && entries.containsKey("model/2.bias"), entries.keySet().toString());
        assertArrayEquals(first.model.stateDict().get("0.weight").toFloatArray(), Tensor.wrap(entries.get("model/0.weight")).toFloatArray());
        assertTrue(entries.keySet().stream().anyMatch(k -> k.startsWith("optimizer/")), "Adam's moments are tensors of the file: " + entries.keySet());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(ckpt), files.toList(), "no temporary files are left behind");
        }
    }

    @Test
    void filesThatAreNotCheckpointsOrWereTamperedWithAreRefused() throws IOException {
        Kiln.manualSeed(2);
        Sequential m = new Sequential(new Linear(3, 2));
        Path weights = dir.resolve("weights.safetensors");
        Safetensors.write(weights, Map.of("w", Tensor.randn(2, 2).data()));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(weights));
        assertTrue(e.getMessage().contains("weights only, not a checkpoint"), e.getMessage());

        Path ckpt = dir.resolve("m.safetensors");
        Checkpoint.save(ckpt, m, null, null, Map.of(), 0);
        String text = new String(Files.readAllBytes(ckpt), StandardCharsets.ISO_8859_1);
        // the tree names a tensor the file does not hold (same length, so the header stays valid)
        Path tampered = dir.resolve("tampered.safetensors");
        Files.write(tampered, text.replace("{\\\"$tensor\\\":\\\"model/0.bias\\\"}", "{\\\"$tensor\\\":\\\"model/0.bia_\\\"}").getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(!Files.readString(tampered, StandardCharsets.ISO_8859_1).equals(text), "the edit applied");
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(tampered));
        assertTrue(e.getMessage().contains("model/0.bia_"), e.getMessage());
        // well-formed but not what restore reads: refused by name, not a ClassCastException later
        Path odd = dir.resolve("odd.safetensors");
        new dev.kiln.serialization.SafetensorsStateFormat().write(odd, Map.of("epoch", 1, "model", Map.of("w", 5), "rng", Map.of()));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(odd));
        assertTrue(e.getMessage().contains("model entry 'w' is not a tensor"), e.getMessage());
        // truncated anywhere: a clear error naming the file
        byte[] bytes = Files.readAllBytes(ckpt);
        for (int cut : new int[] {4, 20, bytes.length / 2, bytes.length - 1}) {
            Path t = dir.resolve("cut" + cut + ".safetensors");
            Files.write(t, java.util.Arrays.copyOf(bytes, cut));
            CheckpointException c = assertThrows(CheckpointException.class, () -> Checkpoint.load(t));
            assertTrue(c.getMessage().contains("cut" + cut), c.getMessage());
        }
    }
}
