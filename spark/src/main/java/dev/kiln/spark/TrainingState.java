package dev.kiln.spark;

import dev.kiln.eager.io.Checkpoint;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.optim.Optimizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model's and its optimizer's state, with the step it was taken at, as the bytes of a Kiln
 * checkpoint: what the driver broadcasts at each round, gets back from worker 0 and writes to the
 * checkpoint folder. Checkpoints are read and written through files, so the bytes pass through a
 * temporary one.
 */
final class TrainingState {
    private TrainingState() {}

    static byte[] save(Module model, Optimizer optimizer, int step) {
        return throughFile(null, f -> {
            Checkpoint.save(f, model, optimizer, null, null, step);
            return Files.readAllBytes(f);
        });
    }

    /** Loads the state into model and optimizer; returns the step it was taken at. */
    static int restore(byte[] state, Module model, Optimizer optimizer) {
        return throughFile(state, f -> Checkpoint.load(f).restore(model, optimizer, null, null));
    }

    /** The step a state was taken at (a checkpoint's epoch field holds it). */
    static int step(byte[] state) { return throughFile(state, f -> Checkpoint.load(f).epoch()); }

    private interface FileWork<T> { T run(Path file) throws IOException; }

    /** Runs {@code work} on a temporary file holding {@code content} (or empty), deleted afterwards. */
    private static <T> T throughFile(byte[] content, FileWork<T> work) {
        try {
            Path tmp = Files.createTempFile("kiln-state", ".ckpt");
            try {
                if (content != null) Files.write(tmp, content);
                return work.run(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pass the training state through a temporary file", e);
        }
    }
}
