package dev.kiln.onnx;

import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.graph.Graph;
import dev.kiln.onnx.OnnxProto.DimInfo;
import dev.kiln.onnx.OnnxProto.Model;
import dev.kiln.onnx.OnnxProto.ValueInfo;
import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.LoadLimits;
import dev.kiln.tracer.TraceException;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model to a Kiln graph: the graph runs once as an {@link OnnxModule} on example inputs
 * under the tracer, with each {@code dim_param} (and each unnamed dim) declared dynamic, so the
 * graph keeps them symbolic exactly as a traced Kiln model does, and float initializers become
 * named parameters. Example sizes for symbols are distinct primes from 3 up, so no symbolic size
 * can be mistaken for a fixed one.
 */
final class OnnxImporter {
    private OnnxImporter() {}

    private static final int[] EXAMPLE_SIZES = {3, 5, 7, 11, 13, 17, 19, 23, 29, 31};

    static Model parse(Path file, LoadLimits limits) throws IOException {
        String what = file.getFileName().toString();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE - 8) {
                throw KilnFormatException.at(what, "is " + size + " bytes; a protobuf model stops at 2 GiB (larger models keep their weights in external data)");
            }
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            return OnnxParser.parse(b, what, limits);
        }
    }

    static OnnxModule module(Path file, LoadLimits limits) throws IOException {
        Model m = parse(file, limits);
        return new OnnxModule(m, new OnnxTensors(file.toAbsolutePath().getParent(), limits));
    }

    static Graph load(Path file, LoadLimits limits, Map<String, Integer> fixedDims) throws IOException {
        OnnxModule module = module(file, limits);
        Model m = module.model;
        String name = m.graph().name().isEmpty() ? stem(file) : m.graph().name();
        TraceOptions.Builder o = TraceOptions.builder().name(OnnxModule.paramName(name));
        Map<String, Integer> sizes = new LinkedHashMap<>();
        Map<String, String> symbols = new LinkedHashMap<>(); // dim_param -> Kiln symbol, unique (a.b and a_b stay two)
        List<Tensor> examples = new ArrayList<>();
        List<String> inputNames = new ArrayList<>();
        Map<String, ValueInfo> infos = new LinkedHashMap<>();
        for (ValueInfo v : m.graph().inputs()) infos.put(v.name(), v);
        int i = 0;
        long exampleBytes = 0;
        for (String in : module.inputNames()) {
            ValueInfo v = infos.get(in);
            if (!v.hasShape()) throw new OnnxException("graph input '" + in + "' has no shape; Kiln needs each input's rank");
            DType t = OnnxTensors.kilnType(v.elemType(), "graph input '" + in + "'");
            int[] shape = new int[v.dims().size()];
            for (int d = 0; d < shape.length; d++) {
                DimInfo di = v.dims().get(d);
                String symbol = di.isSymbol() ? di.param() : di.value() < 0 ? OnnxModule.paramName(in) + "_" + d : null;
                if (symbol != null && fixedDims.containsKey(symbol)) {
                    shape[d] = fixedDims.get(symbol);
                } else if (symbol != null) {
                    String sym = symbols.get(symbol);
                    if (sym == null) {
                        String base = symbolName(symbol);
                        sym = base;
                        for (int k = 2; symbols.containsValue(sym); k++) sym = base + "_" + k;
                        symbols.put(symbol, sym);
                    }
                    if (!sizes.containsKey(sym)) {
                        if (sizes.size() >= EXAMPLE_SIZES.length) throw new OnnxException("more than " + EXAMPLE_SIZES.length + " symbolic dims");
                        sizes.put(sym, EXAMPLE_SIZES[sizes.size()]);
                    }
                    shape[d] = sizes.get(sym);
                    o.dynamic(i, d, sym);
                } else {
                    if (di.value() > Integer.MAX_VALUE) throw new OnnxException("graph input '" + in + "': dim " + d + " is " + di.value() + ", above 2^31-1");
                    shape[d] = (int) di.value();
                }
            }
            // the example is allocated: its size is checked first, like any tensor from the file
            long[] dims = java.util.Arrays.stream(shape).asLongStream().toArray();
            exampleBytes += dev.kiln.serialization.TensorBytes.checkedByteSize(t, dims, limits.maxTensorBytes(), "graph input '" + in + "'");
            if (exampleBytes > limits.maxTotalBytes()) throw new OnnxException("the graph inputs' examples need more than " + limits.maxTotalBytes() + " bytes");
            examples.add(example(t, shape));
            String inName = OnnxModule.paramName(in), unique = inName;
            for (int k = 2; inputNames.contains(unique); k++) unique = inName + "_" + k;
            inputNames.add(unique);
            i++;
        }
        o.inputNames(inputNames.toArray(new String[0])).params(module.namedParameters());
        module.eval();
        Graph g;
        try (var ng = Autograd.noGrad()) {
            g = Tracer.traceMulti(module::run, examples.toArray(new Tensor[0]), o.build());
        } catch (TraceException e) {
            throw new OnnxException("the ONNX graph cannot keep its dynamic dims symbolic in Kiln: " + e.getMessage()
                    + (fixedDims.isEmpty() ? " (Onnx.load(path, limits, Map.of(dim, size)) imports with a dim fixed)" : ""), e);
        }
        var b = g.rebuild();
        for (var node : g.nodes()) b.addNode(node);
        // the ONNX output names are what the model's clients know
        for (int k = 0; k < g.outputs().size(); k++) b.output(g.outputs().get(k), m.graph().outputs().get(k).name());
        b.putMetadata("onnx.producer", (m.producer() + " " + m.producerVersion()).trim());
        b.putMetadata("onnx.opset", Long.toString(m.opset()));
        for (int k = 0; k < m.graph().outputs().size(); k++) b.putMetadata("onnx.output." + k, m.graph().outputs().get(k).name());
        for (int k = 0; k < module.inputNames().size(); k++) b.putMetadata("onnx.input." + k, module.inputNames().get(k));
        return b.build();
    }

    /** Symbols must be identifiers in Kiln's dim syntax (a dim_param may be free text). */
    static String symbolName(String param) {
        String s = OnnxModule.paramName(param);
        return Character.isUpperCase(s.charAt(0)) || Character.isLowerCase(s.charAt(0)) ? s : "D" + s;
    }

    private static Tensor example(DType t, int[] shape) {
        return switch (t) {
            case FLOAT32, FLOAT64 -> Tensor.randn(shape).to(t);
            case INT64 -> Tensor.zeros(shape).to(DType.INT64);
            case BOOL -> Tensor.zeros(shape).to(DType.BOOL);
        };
    }

    private static String stem(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
