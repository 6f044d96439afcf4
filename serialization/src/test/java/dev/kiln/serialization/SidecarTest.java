package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.Strided;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sidecar weights resolve only inside the artifact's folder and must match what the artifact declares. */
class SidecarTest {
    @TempDir
    Path dir;

    private Path saved() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("model"));
        Path file = folder.resolve("mlp.kiln.json");
        KilnWriter.save(SmallModels.mlp(), file, KilnWriter.Weights.SIDECAR);
        return file;
    }

    private void rejects(Path file, String expected) {
        KilnFormatException e = assertThrows(KilnFormatException.class, () -> KilnReader.load(file));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void sidecarArtifactLoadsAndReferencesTheFileByName() throws Exception {
        Path file = saved();
        String json = Files.readString(file);
        assertTrue(json.contains("\"file\" : \"mlp.safetensors\""), json);
        assertEquals(SmallModels.mlp().toString(), KilnReader.load(file).toString());
    }

    @Test
    void aSymlinkOutOfTheFolderIsRefused() throws Exception {
        Path file = saved();
        Path outside = dir.resolve("stolen.safetensors");
        Files.move(file.resolveSibling("mlp.safetensors"), outside);
        Files.createSymbolicLink(file.resolveSibling("mlp.safetensors"), outside);
        rejects(file, "parameters[0].data.file: sidecar file 'mlp.safetensors' resolves to " + outside.toRealPath() + ", outside the artifact's folder");
    }

    @Test
    void aMissingSidecarIsNamed() throws Exception {
        Path file = saved();
        Files.delete(file.resolveSibling("mlp.safetensors"));
        rejects(file, "parameters[0].data.file: sidecar file 'mlp.safetensors' does not exist next to the artifact");
    }

    @Test
    void aSidecarWhoseTensorsDifferFromTheArtifactIsRefused() throws Exception {
        Path file = saved();
        Map<String, Strided> w = new LinkedHashMap<>(Safetensors.read(file.resolveSibling("mlp.safetensors")));
        w.put("fc.weight", RandomGraphs.randn(new java.util.Random(9), 3, 4));
        Safetensors.write(file.resolveSibling("mlp.safetensors"), w);
        rejects(file, "parameters[0].data.key: sidecar tensor is f32[3, 4] but the artifact declares f32[4, 3]");
        w.put("fc.weight", RandomGraphs.randn(new java.util.Random(9), 4, 3));
        Safetensors.write(file.resolveSibling("mlp.safetensors"), w);
        rejects(file, "parameters[0].data.sha256: checksum mismatch");
        w.remove("fc.weight");
        Safetensors.write(file.resolveSibling("mlp.safetensors"), w);
        rejects(file, "parameters[0].data.key: sidecar 'mlp.safetensors' has no tensor named 'fc.weight'");
    }

    @Test
    void traversalNamesAreRefusedEvenWhenTheTargetExists() throws Exception {
        Path file = saved();
        Files.copy(file.resolveSibling("mlp.safetensors"), dir.resolve("mlp.safetensors"));
        Files.writeString(file, Files.readString(file).replace("\"mlp.safetensors\"", "\"../mlp.safetensors\""));
        rejects(file, "parameters[0].data.file: sidecar file name '../mlp.safetensors' must not contain a path separator");
    }
}
