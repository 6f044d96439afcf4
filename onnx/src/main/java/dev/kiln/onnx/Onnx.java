package dev.kiln.onnx;

import dev.kiln.graph.Graph;
import dev.kiln.serialization.LoadLimits;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * ONNX in and out of Kiln. {@link #save} writes a graph as an ONNX model (opset 17) that ONNX
 * Runtime, Netron and other frameworks read; {@link #load} imports an ONNX model (opsets 13 to
 * 17) as an ordinary Kiln graph, verified, which compiles, serves and fine-tunes like a traced one.
 * Loading treats the file as untrusted, with the same {@link LoadLimits} as the JSON loader.
 */
public final class Onnx {
    private Onnx() {}

    /** Initializers at least this big go to the external data file when a model would pass protobuf's 2 GiB. */
    static final long EXTERNAL_THRESHOLD = 1 << 10;
    private static final long INLINE_LIMIT = 1L << 30;

    /** Imports an ONNX model with the default (heap-derived) limits; every dim_param stays symbolic. */
    public static Graph load(Path file) throws IOException { return load(file, LoadLimits.defaults(), Map.of()); }

    /**
     * Imports an ONNX model. {@code fixedDims} pins named dims to a size (a recurrent layer over
     * a symbolic sequence length needs one, Kiln has no scan yet). Errors name the node, the
     * operator and the opset, or the field of the file.
     */
    public static Graph load(Path file, LoadLimits limits, Map<String, Integer> fixedDims) throws IOException {
        return OnnxImporter.load(file, limits, fixedDims);
    }

    /** The ONNX model as an eager Kiln module (its float initializers are parameters): to run, inspect or fine-tune it eagerly. */
    public static OnnxModule module(Path file) throws IOException { return OnnxImporter.module(file, LoadLimits.defaults()); }

    /** The ONNX ModelProto of {@code g}, every initializer inline. */
    public static byte[] toBytes(Graph g) { return OnnxExporter.export(g, null); }

    /**
     * Writes {@code g} to {@code file}. A model whose weights pass 1 GiB keeps them in
     * {@code <file>.data} beside it (ONNX external data; protobuf messages stop at 2 GiB).
     */
    public static void save(Graph g, Path file) throws IOException {
        long weights = 0;
        for (var p : g.params()) weights += (long) p.data().numel() * p.data().dtype().itemSize();
        for (var c : g.constants()) weights += (long) c.data().numel() * c.data().dtype().itemSize();
        save(g, file, weights > INLINE_LIMIT);
    }

    /** Writes {@code g}, with initializers of 1 KiB and more in {@code <file>.data} when {@code externalData}. */
    public static void save(Graph g, Path file, boolean externalData) throws IOException {
        if (!externalData) {
            Files.write(file, toBytes(g));
            return;
        }
        String dataName = file.getFileName() + ".data";
        // streamed to the file: the weights may pass what one Java array can hold
        try (OutputStream data = new BufferedOutputStream(Files.newOutputStream(file.resolveSibling(dataName)), 1 << 20)) {
            long[] written = {0};
            byte[] model;
            try {
                model = OnnxExporter.export(g, new OnnxExporter.ExternalData() {
                    @Override
                    public long thresholdBytes() { return EXTERNAL_THRESHOLD; }

                    @Override
                    public String[] append(byte[] bytes) {
                        long offset = written[0];
                        try {
                            data.write(bytes);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        written[0] += bytes.length;
                        return new String[] {dataName, Long.toString(offset), Long.toString(bytes.length)};
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            Files.write(file, model);
        }
    }
}
