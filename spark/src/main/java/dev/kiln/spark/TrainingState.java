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
 * checkpoint folder.
 */
final class TrainingState {
    private TrainingState() {}

    static byte[] save(Module model, Optimizer optimizer, int step) {
        try {
            Path tmp = Files.createTempFile("kiln-state", ".ckpt");
            try {
                Checkpoint.save(tmp, model, optimizer, null, null, step);
                return Files.readAllBytes(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the training state to a temporary file", e);
        }
    }

    /** The step a state was taken at (a checkpoint's epoch field holds it). */
    static int step(byte[] state) {
        try {
            Path tmp = Files.createTempFile("kiln-state", ".ckpt");
            try {
                Files.write(tmp, state);
                return Checkpoint.load(tmp).epoch();
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the training state", e);
        }
    }

    /** Loads the state into model and optimizer; returns the step it was taken at. */
    static int restore(byte[] state, Module model, Optimizer optimizer) {
        try {
            Path tmp = Files.createTempFile("kiln-state", ".ckpt");
            try {
                Files.write(tmp, state);
                return Checkpoint.load(tmp).restore(model, optimizer, null, null);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the training state", e);
        }
    }
}
