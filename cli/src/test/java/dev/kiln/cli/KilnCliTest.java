package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.Value;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serialization.Npy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every subcommand and its error paths, run in-process with captured streams. */
class KilnCliTest {
    record Result(int code, String out, String err) {}

    @TempDir
    Path dir;
    Path model;
    Graph graph;

    static Strided randn(Random r, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return Strided.contiguous(Storage.wrap(a), shape);
    }

    /** {@code relu(x @ w + b) @ v} over {@code x: f32[N,4]}: FLOPs 27*N (addmm) + 12*N (matmul). */
    @BeforeEach
    void saveModel() throws Exception { saveModelIn(dir); }

    /** Saves the model as {@code mlp.kiln.json} in {@code folder} (other test classes use it too). */
    void saveModelIn(Path folder) throws Exception {
        Random r = new Random(1);
        GraphBuilder b = Graph.builder("mlp");
        Value x = b.addInput("x", new TensorType(DType.FLOAT32, new Dim[] {Dim.symbol("N"), Dim.of(4)}));
        Value w = b.addParam("fc.weight", TensorType.of(DType.FLOAT32, 4, 3), randn(r, 4, 3));
        Value bias = b.addParam("fc.bias", TensorType.of(DType.FLOAT32, 3), randn(r, 3));
        Value v = b.addParam("out.weight", TensorType.of(DType.FLOAT32, 3, 2), randn(r, 3, 2));
        Value h = b.add(Op.RELU, Attrs.EMPTY, "Mlp.java:11", b.add(Op.ADDMM, Attrs.EMPTY, "Mlp.java:10", bias, x, w));
        graph = b.output(b.add(Op.MATMUL, Attrs.EMPTY, "Mlp.java:12", h, v)).build();
        model = folder.resolve("mlp.kiln.json");
        KilnWriter.save(graph, model);
    }

    static Result kiln(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = KilnCli.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    /** Exit code 2 and one line on stderr containing {@code expected}, with no stack trace. */
    static void badInput(Result r, String expected) {
        assertEquals(2, r.code(), r.toString());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith("kiln: ") && r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void inspectListsAPyTorchFileWeightsOnly() {
        Path pt = Path.of("../serialization/src/test/resources/torch-pt");
        Result r = kiln("inspect", pt.resolve("checkpoint.pt").toString());
        assertEquals(0, r.code(), r.err());
        for (String s : new String[] {"tensors:     16 (532 bytes", "model.fc1.weight                         f32[5,4]", "optimizer.state.0.step                   f32[]",
            "optimizer.param_groups.0.lr              = 0.01", "epoch                                    = 3", "name                                     = 'run-1'"}) {
            assertTrue(r.out().contains(s), "expected '" + s + "' in:\n" + r.out());
        }
        badInput(kiln("inspect", pt.resolve("hostile/os_system.pt").toString()), "global 'os.system' is not allowed");
        // a 4 MB key over 20,000 entries: keys are cut, at most 10,000 entries printed
        Result big = kiln("inspect", pt.resolve("hostile/review_summary_paths.pt").toString());
        assertEquals(0, big.code(), big.err());
        assertTrue(big.out().contains("...(4194304 chars).0") && big.out().contains("... 10000 more"), big.out().substring(0, 500));
        assertTrue(big.out().length() < 2_000_000, "bounded output: " + big.out().length());
    }

    @Test
    void onnxModelsRunInspectAndConvertBothWays() throws Exception {
        Path onnxDir = Path.of("../onnx/src/test/resources/onnx-fixtures");
        Path mlp = onnxDir.resolve("mlp_opset17.onnx");
        Result r = kiln("inspect", mlp.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("producer onnx opset 17 from pytorch 1.13") && r.out().contains("f32[N,8]"), r.out());
        // run it on a .npy batch of 3 and compare with the ONNX fixture's reference computed by PyTorch
        com.fasterxml.jackson.databind.JsonNode f = new com.fasterxml.jackson.databind.ObjectMapper().readTree(onnxDir.resolve("mlp_opset17.json").toFile());
        com.fasterxml.jackson.databind.JsonNode c = f.get("cases").get(1);
        String inName = c.get("inputs").fieldNames().next();
        double[] xs = new double[c.get("inputs").get(inName).get("data").size()];
        for (int i = 0; i < xs.length; i++) xs[i] = c.get("inputs").get(inName).get("data").get(i).asDouble();
        int[] shape = {c.get("inputs").get(inName).get("shape").get(0).asInt(), c.get("inputs").get(inName).get("shape").get(1).asInt()};
        Path x = dir.resolve("x.npy"), y = dir.resolve("y.npy");
        dev.kiln.serialization.Npy.write(x, dev.kiln.eager.Tensor.of(xs, shape).to(dev.kiln.backend.DType.FLOAT32).data());
        r = kiln("run", mlp.toString(), "--input", inName.replace('.', '_') + "=" + x, "--output", y.toString());
        assertEquals(0, r.code(), r.err());
        float[] got = dev.kiln.eager.Tensor.wrap(dev.kiln.serialization.Npy.read(y)).toFloatArray();
        com.fasterxml.jackson.databind.JsonNode want = c.get("outputs").elements().next().get("data");
        for (int i = 0; i < got.length; i++) assertEquals(want.get(i).asDouble(), got[i], 1e-5 * (1 + Math.abs(want.get(i).asDouble())));
        // convert to an artifact and back to ONNX
        Path json = dir.resolve("mlp.kiln.json"), back = dir.resolve("mlp.onnx");
        assertEquals(0, kiln("convert", mlp.toString(), json.toString()).code());
        assertEquals(0, kiln("convert", json.toString(), back.toString()).code());
        assertTrue(kiln("inspect", back.toString()).out().contains("f32[N,8]"));
        badInput(kiln("convert", mlp.toString(), dir.resolve("x.txt").toString()), "expected MODEL.onnx OUT.kiln.json or MODEL.kiln.json OUT.onnx");
        badInput(kiln("run", onnxDir.resolve("hostile/unknown_op.onnx").toString(), "--input", "x=" + x, "--output", y.toString()), "FancyOp");
    }

    @Test
    void aTrainModeArtifactIsFlaggedOnLoad() throws Exception {
        dev.kiln.eager.nn.Sequential m = new dev.kiln.eager.nn.Sequential(new dev.kiln.eager.nn.Linear(4, 2), new dev.kiln.eager.nn.Dropout(0.5));
        Graph g = dev.kiln.tracer.Tracer.trace(m, new dev.kiln.eager.Tensor[] {dev.kiln.eager.Tensor.randn(2, 4)},
                dev.kiln.tracer.TraceOptions.builder().name("drop").build());
        Path file = dir.resolve("drop.kiln.json");
        dev.kiln.serialization.KilnWriter.save(g, file);
        Result r = kiln("inspect", file.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("warning:     graph 'drop' was traced in train mode") && r.out().contains("draws random numbers"), r.out());
    }

    @Test
    void inspectSummarizesTheModel() {
        Result r = kiln("inspect", model.toString());
        assertEquals(0, r.code(), r.err());
        for (String s : new String[] {"model:       mlp", "kiln-graph 1.3, opset 1", "%x: f32[N,4]", "%3: f32[N,2]",
            "parameters:  3 tensors, 21 values, 84 bytes", "FLOPs:       39*N", "addmm            1", "matmul           1", "guards:      none"}) {
            assertTrue(r.out().contains(s), "expected '" + s + "' in:\n" + r.out());
        }
        assertFalse(r.out().contains("return %3"), "the text form only with --graph");
        assertTrue(kiln("inspect", "--graph", model.toString()).out().contains(graph.toString()));
    }

    @Test
    void everyCommandHasHelpAndTyposGetSuggestions() {
        for (String cmd : new String[] {"inspect", "run", "dot", "bench", "serve", "demo", "convert"}) {
            Result v = kiln(cmd, "--version");
            assertEquals(0, v.code(), cmd + " --version: " + v);
            assertTrue(v.out().startsWith("kiln " + dev.kiln.backend.KilnVersion.VERSION + "\n") && !dev.kiln.backend.KilnVersion.VERSION.equals("unknown"), cmd + " --version: " + v.out());
            Result r = kiln(cmd, "--help");
            assertEquals(0, r.code(), cmd + " --help: " + r);
            assertTrue(r.out().contains("Usage: kiln " + cmd), cmd + " --help: " + r.out());
            Result h = kiln("help", cmd);
            assertEquals(0, h.code(), "help " + cmd + ": " + h);
            assertTrue(h.out().contains("Usage: kiln " + cmd), "help " + cmd + ": " + h.out());
        }
        badInput(kiln("inspct", model.toString()), "did you mean 'inspect'?");
        Result completion = kiln("generate-completion");
        assertEquals(0, completion.code(), completion.toString());
        for (String s : new String[] {"complete -F", "inspect", "serve", "--max-batch"}) assertTrue(completion.out().contains(s), s + " in the bash completion script");
        assertEquals(java.util.logging.Level.WARNING, java.util.logging.Logger.getLogger("dev.kiln").getLevel(), "INFO lines are off without --verbose");
    }

    @Test
    void inputAndOutputMistakesNameTheFixInOneLine() throws Exception {
        // numpy's default float64
        Path x64 = dir.resolve("x64.npy");
        Npy.write(x64, Strided.allocate(DType.FLOAT64, new int[] {2, 4}));
        badInput(kiln("run", model.toString(), "--input", "x=" + x64, "--output", dir.resolve("y.npy").toString()), "x.astype(np.float32)");
        Result option = kiln("run", model.toString(), "--input", "x", "--output", "y.npy");
        badInput(option, "Value for option '--input'");
        assertFalse(option.err().contains("option option"), option.err());
        badInput(kiln("dot", model.toString(), "-o", dir.resolve("g.txt").toString()), "unknown extension 'txt'");
        boolean gpu;
        try {
            dev.kiln.eager.Device.cuda(0);
            gpu = true;
        } catch (RuntimeException e) {
            gpu = false;
        }
        if (!gpu) badInput(kiln("run", model.toString(), "--input", "x=a.npy", "--output", "b.npy", "--device", "cuda"), "--device cuda: CUDA is not available");
    }

    @Test
    void inspectEscapesControlCharactersFromTheFile() throws Exception {
        // a producer that would clear the screen, return the cursor and print a fake verdict
        Path hostile = dir.resolve("hostile.kiln.json");
        String doc = Files.readString(model).replace("\"producer\" : \"" + dev.kiln.serialization.KilnWriter.PRODUCER + "\"", "\"producer\" : \"\\u001b[2J\\r\\nkiln: OK\\u202e\"");
        assertTrue(doc.contains("u001b[2J"), "the replacement applied");
        Files.writeString(hostile, doc);
        Result r = kiln("inspect", "--graph", hostile.toString());
        assertEquals(0, r.code(), r.err());
        for (char c : r.out().toCharArray()) assertTrue(c == '\n' || c >= 0x20 && c != 0x7f && c != 0x202e, "raw control character " + (int) c + " in:\n" + r.out());
        assertTrue(r.out().contains("producer \\u001b[2J\\u000d\\u000akiln: OK\\u202e"), r.out());
    }

    @Test
    void runWritesTheOutputAndBatchesAgree() throws Exception {
        Strided x = randn(new Random(2), 5, 4);
        Npy.write(dir.resolve("x.npy"), x);
        Result r = kiln("run", model.toString(), "--input", "x=" + dir.resolve("x.npy"), "--output", dir.resolve("y.npy").toString());
        assertEquals(0, r.code(), r.err());
        Strided y = Npy.read(dir.resolve("y.npy"));
        Strided expected = ReferenceInterpreter.run(graph, List.of(x)).get(0);
        assertArrayEquals(expected.storage().f32(), y.storage().f32());
        r = kiln("run", model.toString(), "--input", "x=" + dir.resolve("x.npy"), "--output", dir.resolve("y2.npy").toString(), "--batch-size", "2");
        assertEquals(0, r.code(), r.err());
        Strided y2 = Npy.read(dir.resolve("y2.npy"));
        assertArrayEquals(new int[] {5, 2}, y2.shape());
        assertArrayEquals(expected.storage().f32(), y2.storage().f32(), 1e-6f);
        r = kiln("run", model.toString(), "--input", "x=" + dir.resolve("x.npy"), "--output", dir.resolve("y0.npy").toString(), "--optimize", "O0");
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(expected.storage().f32(), Npy.read(dir.resolve("y0.npy")).storage().f32(), "O0 is the reference interpreter");
        badInput(kiln("run", model.toString(), "--input", "x=" + dir.resolve("x.npy"), "--output", dir.resolve("y3.npy").toString(), "--optimize", "O9"), "O9");
    }

    @Test
    void runErrorsAreOneLine() throws Exception {
        Npy.write(dir.resolve("x.npy"), randn(new Random(2), 5, 4));
        Npy.write(dir.resolve("bad.npy"), randn(new Random(2), 5, 7));
        String out = dir.resolve("y.npy").toString();
        badInput(kiln("run", model.toString(), "--input", "z=" + dir.resolve("x.npy"), "--output", out), "missing --input x=FILE.npy");
        badInput(kiln("run", model.toString(), "--input", "x=" + dir.resolve("x.npy"), "--input", "z=" + dir.resolve("x.npy"), "--output", out), "the model has no input named z");
        badInput(kiln("run", model.toString(), "--input", "x=" + dir.resolve("bad.npy"), "--output", out), "input %x must be f32[N,4], got shape [5, 7]");
        badInput(kiln("run", model.toString(), "--input", "x=" + dir.resolve("nope.npy"), "--output", out), "no such file: " + dir.resolve("nope.npy"));
        badInput(kiln("run", model.toString(), "--input", "x=" + dir.resolve("x.npy"), "--output", out, "--batch-size", "0"), "--batch-size must be at least 1");
        badInput(kiln("run", model.toString(), "--output", out), "Missing required option: '--input=NAME=FILE.npy'");
    }

    @Test
    void modelErrorsAreOneLineUnlessVerbose() throws Exception {
        badInput(kiln("inspect", dir.resolve("missing.kiln.json").toString()), "no such file: ");
        Path broken = dir.resolve("broken.kiln.json");
        Files.writeString(broken, Files.readString(model).replace("\"relu\"", "\"exec\""));
        badInput(kiln("inspect", broken.toString()), "nodes[1].op: unknown op 'exec'");
        Path newer = dir.resolve("newer.kiln.json");
        Files.writeString(newer, Files.readString(model).replace("\"version\" : \"1.3\"", "\"version\" : \"2.0\""));
        badInput(kiln("run", newer.toString(), "--input", "x=a.npy", "--output", "b.npy"), "version: file format version 2.0 is newer than this reader's 1.3");
        Result verbose = kiln("inspect", "--verbose", broken.toString());
        assertEquals(2, verbose.code());
        assertTrue(verbose.err().contains("\tat dev.kiln."), "--verbose prints the stack trace: " + verbose.err());
        badInput(kiln("frobnicate"), "Unmatched argument at index 0: 'frobnicate'");
        badInput(kiln("inspect", "--bogus", model.toString()), "Unknown option: '--bogus'");
    }

    @Test
    void dotPrintsGraphvizAndSvgNeedsTheBinary() throws Exception {
        Result r = kiln("dot", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("digraph \"mlp\""), r.out());
        assertTrue(r.out().contains("addmm"), r.out());
        Result file = kiln("dot", model.toString(), "-o", dir.resolve("g.dot").toString());
        assertEquals(0, file.code(), file.err());
        assertEquals(r.out(), Files.readString(dir.resolve("g.dot")));
        Result svg = kiln("dot", model.toString(), "-o", dir.resolve("g.svg").toString());
        if (hasDotBinary()) {
            assertEquals(0, svg.code(), svg.err());
            assertTrue(Files.readString(dir.resolve("g.svg")).contains("<svg"));
        } else {
            badInput(svg, "SVG output needs the Graphviz 'dot' binary");
        }
    }

    private static boolean hasDotBinary() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "dot"))) return true;
        }
        return false;
    }

    @Test
    void benchReportsPercentilesAndThroughput() throws Exception {
        Result r = kiln("bench", model.toString(), "--iterations", "20", "--warmup", "2", "--batch-size", "8");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("20 iterations after 2 warm-up, batch 8"), r.out());
        assertTrue(r.out().matches("(?s).*p50 [0-9.]+ ms +p90 [0-9.]+ ms +p99 [0-9.]+ ms.*"), r.out());
        assertTrue(r.out().contains("runs/s"), r.out());
        Npy.write(dir.resolve("x.npy"), randn(new Random(2), 3, 4));
        assertTrue(kiln("bench", model.toString(), "--input", "x=" + dir.resolve("x.npy"), "--iterations", "3").out().contains("batch 3"));
        badInput(kiln("bench", model.toString(), "--iterations", "0"), "--iterations must be at least 1, got 0");
        badInput(kiln("bench", model.toString(), "--iterations", "many"), "Invalid value for option '--iterations'");
        badInput(kiln("bench", model.toString(), "--device", "tpu"), "unknown device 'tpu' (expected cpu, cuda or cuda:<index>)");
        assertTrue(kiln("bench", model.toString(), "--iterations", "2", "--device", "cpu").out().contains("(compiled plan (O2))"));
    }

    @Test
    void aGpuDeviceWithoutAGpuSaysWhyInOneLine() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.kiln.Kiln.cudaAvailable(), "this machine has a GPU");
        Npy.write(dir.resolve("x.npy"), randn(new Random(3), 2, 4));
        for (String cmd : new String[] {"bench", "run"}) {
            Result r = cmd.equals("bench") ? kiln("bench", model.toString(), "--device", "cuda")
                    : kiln("run", model.toString(), "--input", "x=" + dir.resolve("x.npy"), "--output", dir.resolve("y.npy").toString(), "--device", "cuda");
            assertTrue(r.code() != 0, r.toString());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
            assertTrue(r.err().startsWith("kiln: ") && r.err().contains("CUDA is not available"), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void percentilesUseNearestRank() {
        long[] ns = new long[100];
        for (int i = 0; i < 100; i++) ns[i] = (i + 1) * 1_000_000L;
        assertEquals(50.0, BenchCommand.pct(ns, 50));
        assertEquals(99.0, BenchCommand.pct(ns, 99));
        assertEquals(1.0, BenchCommand.pct(new long[] {1_000_000L}, 90));
    }
}
