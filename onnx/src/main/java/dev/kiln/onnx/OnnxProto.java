package dev.kiln.onnx;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * The parts of onnx.proto (IR version 3 to 10) that Kiln reads and writes, as immutable records.
 * Field numbers are in {@link OnnxParser} and {@link OnnxWriter}; unknown fields are skipped.
 */
final class OnnxProto {
    private OnnxProto() {}

    // TensorProto.DataType
    static final int FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5, INT32 = 6, INT64 = 7, STRING = 8, BOOL = 9, FLOAT16 = 10,
            DOUBLE = 11, UINT32 = 12, UINT64 = 13, BFLOAT16 = 16;

    // AttributeProto.AttributeType
    static final int ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_TENSOR = 4, ATTR_GRAPH = 5, ATTR_FLOATS = 6, ATTR_INTS = 7,
            ATTR_STRINGS = 8, ATTR_TENSORS = 9, ATTR_GRAPHS = 10;

    static String dataTypeName(int t) {
        return switch (t) {
            case FLOAT -> "FLOAT";
            case UINT8 -> "UINT8";
            case INT8 -> "INT8";
            case UINT16 -> "UINT16";
            case INT16 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case STRING -> "STRING";
            case BOOL -> "BOOL";
            case FLOAT16 -> "FLOAT16";
            case DOUBLE -> "DOUBLE";
            case UINT32 -> "UINT32";
            case UINT64 -> "UINT64";
            case BFLOAT16 -> "BFLOAT16";
            default -> "data type " + t;
        };
    }

    record Model(long irVersion, Map<String, Long> opsets, String producer, String producerVersion, Graph graph, Map<String, String> metadata) {
        /** The default domain's opset version (0 when absent). */
        long opset() { return opsets.getOrDefault("", opsets.getOrDefault("ai.onnx", 0L)); }
    }

    record Graph(String name, List<Node> nodes, List<Tensor> initializers, List<ValueInfo> inputs, List<ValueInfo> outputs) {}

    record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs, Map<String, Attribute> attributes) {
        /** How errors name this node: its name when it has one, else its first output. */
        String label() {
            return "node '" + (name.isEmpty() ? (outputs.isEmpty() ? "?" : outputs.get(0)) : name) + "' (" + (domain.isEmpty() ? "" : domain + ".") + opType + ")";
        }
    }

    record Attribute(String name, int type, float f, long i, String s, Tensor t, Graph g, float[] floats, long[] ints, List<String> strings, List<Graph> graphs) {}

    /**
     * An initializer or attribute tensor. Data is in exactly one of raw (little-endian bytes,
     * a view into the file), the typed arrays, or an external file (location, offset, length).
     */
    record Tensor(String name, int dataType, long[] dims, ByteBuffer raw, float[] floats, long[] int64s, int[] int32s, double[] doubles,
                  String externalLocation, long externalOffset, long externalLength) {
        boolean isExternal() { return externalLocation != null; }
    }

    /** A graph input or output: its element type and shape (dims are a value or a symbol name). */
    record ValueInfo(String name, int elemType, List<DimInfo> dims, boolean hasShape) {}

    record DimInfo(long value, String param) {
        boolean isSymbol() { return param != null; }
    }
}
