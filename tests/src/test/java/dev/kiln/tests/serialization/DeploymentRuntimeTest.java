package dev.kiln.tests.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serialization.Npy;
import dev.kiln.serialization.RunArtifact;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deployment needs only kiln-backends, kiln-graph-opt, kiln-serialization and Jackson
 * (DESIGN.md, Modules): trace an MLP, save it, and run it in a child JVM whose class path
 * holds nothing else, then compare with eager.
 */
class DeploymentRuntimeTest {
    private static final List<String> DEPLOY_MODULES = List.of("backends", "graph-opt", "serialization");

    @TempDir
    Path dir;

    private static Tensor mlp(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2) {
        return x.matmul(w1.t()).add(b1).relu().matmul(w2.t()).add(b2).logSoftmax(1);
    }

    /**
     * The deployment class path, taken from this test's own: three modules (their classes under
     * {@code mvn test} from the root, their jars otherwise) and Jackson's jars.
     */
    static String deploymentClassPath() {
        List<String> keep = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e);
            boolean module = isDeployModule(p);
            boolean jackson = p.getFileName().toString().startsWith("jackson-") && e.endsWith(".jar");
            if (module || jackson) keep.add(e);
        }
        return String.join(File.pathSeparator, keep);
    }

    private static boolean isDeployModule(Path p) {
        if (p.endsWith(Path.of("target", "classes"))) return DEPLOY_MODULES.contains(p.getParent().getParent().getFileName().toString());
        // kiln-backends-0.1.0-SNAPSHOT.jar, not kiln-backends-cuda-0.1.0-SNAPSHOT.jar
        String name = p.getFileName().toString();
        return name.endsWith(".jar") && DEPLOY_MODULES.stream().anyMatch(m -> name.startsWith("kiln-" + m + "-")
                && Character.isDigit(name.charAt(("kiln-" + m + "-").length())));
    }

    @Test
    void savedMlpRunsInABareJvmAndMatchesEager() throws Exception {
        Kiln.manualSeed(3);
        Tensor w1 = Tensor.randn(16, 8), b1 = Tensor.randn(16), w2 = Tensor.randn(4, 16), b2 = Tensor.randn(4);
        TraceOptions o = TraceOptions.builder().name("mlp").dynamic(0, 0, "N")
                .params(Map.of("fc1.weight", w1, "fc1.bias", b1, "fc2.weight", w2, "fc2.bias", b2)).build();
        Graph g = Tracer.trace(in -> mlp(in[0], w1, b1, w2, b2), new Tensor[] {Tensor.randn(2, 8)}, o);
        Path model = dir.resolve("mlp.kiln.json");
        KilnWriter.save(g, model, KilnWriter.Weights.SIDECAR);
        Tensor x = Tensor.randn(5, 8);
        Npy.write(dir.resolve("x.npy"), x.data());

        String cp = deploymentClassPath();
        assertEquals(3, Arrays.stream(cp.split(File.pathSeparator)).filter(e -> isDeployModule(Path.of(e))).count(), cp);
        assertTrue(!cp.contains("eager") && !cp.contains("tracer"), cp);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", cp, RunArtifact.class.getName(),
                model.toString(), dir.resolve("y.npy").toString(), dir.resolve("x.npy").toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), log);

        Strided y = Npy.read(dir.resolve("y.npy"));
        Tensor expected = mlp(x, w1, b1, w2, b2);
        assertArrayEquals(expected.shape(), y.shape());
        assertTrue(Tensor.wrap(y).allclose(expected, 1e-6, 1e-6), Arrays.toString(Tensor.wrap(y).toFloatArray()) + " vs " + expected);
    }
}
