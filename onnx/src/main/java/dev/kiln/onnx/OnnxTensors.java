package dev.kiln.onnx;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.onnx.OnnxProto.Tensor;
import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.LoadLimits;
import dev.kiln.serialization.TensorBytes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * ONNX TensorProtos to Kiln data, with every size checked before allocation: dims non-negative,
 * their product times the element size within {@link LoadLimits#maxTensorBytes}, the data's
 * length equal to it, and external data confined to the model's folder (no {@code ..}, no
 * absolute path, no symbolic link out of it) and inside its file. Narrow integer types widen to
 * int64 and half precision to float32, as Kiln has f32, f64, i64 and bool.
 */
final class OnnxTensors {
    private final Path modelDir;
    private final LoadLimits limits;
    private long total;

    OnnxTensors(Path modelDir, LoadLimits limits) {
        this.modelDir = modelDir;
        this.limits = limits;
    }

    LoadLimits limits() { return limits; }

    /** Checks a tensor the import is about to create (a constant of a given shape, a range) against the limits. */
    void checkCreated(DType t, long[] shape, String what) {
        long bytes = TensorBytes.checkedByteSize(t, shape, limits.maxTensorBytes(), what);
        if (total + bytes > limits.maxTotalBytes()) throw KilnFormatException.at(what, "the model's tensors need more than " + limits.maxTotalBytes() + " bytes together");
    }

    static DType kilnType(int onnx, String where) {
        return switch (onnx) {
            case OnnxProto.FLOAT, OnnxProto.FLOAT16, OnnxProto.BFLOAT16 -> DType.FLOAT32;
            case OnnxProto.DOUBLE -> DType.FLOAT64;
            case OnnxProto.INT64, OnnxProto.INT32, OnnxProto.INT16, OnnxProto.INT8, OnnxProto.UINT8, OnnxProto.UINT16, OnnxProto.UINT32 -> DType.INT64;
            case OnnxProto.BOOL -> DType.BOOL;
            default -> throw KilnFormatException.at(where, OnnxProto.dataTypeName(onnx) + " tensors are not supported (Kiln has f32, f64, i64 and bool)");
        };
    }

    private static int fileItemSize(int onnx) {
        return switch (onnx) {
            case OnnxProto.DOUBLE, OnnxProto.INT64, OnnxProto.UINT64 -> 8;
            case OnnxProto.FLOAT, OnnxProto.INT32, OnnxProto.UINT32 -> 4;
            case OnnxProto.FLOAT16, OnnxProto.BFLOAT16, OnnxProto.INT16, OnnxProto.UINT16 -> 2;
            default -> 1;
        };
    }

    Strided read(Tensor t, String where) throws IOException {
        DType dtype = kilnType(t.dataType(), where + " (" + t.name() + ")");
        long[] dims = t.dims();
        if (dims.length > limits.maxRank()) throw KilnFormatException.at(where, "rank " + dims.length + " is above the limit of " + limits.maxRank());
        long kilnBytes = TensorBytes.checkedByteSize(dtype, dims, limits.maxTensorBytes(), where + ".dims");
        int n = Math.toIntExact(kilnBytes / dtype.itemSize());
        int[] shape = new int[dims.length];
        for (int i = 0; i < shape.length; i++) shape[i] = (int) dims[i];
        total += kilnBytes;
        if (total > limits.maxTotalBytes()) throw KilnFormatException.at(where, "the initializers need more than " + limits.maxTotalBytes() + " bytes together (LoadLimits.maxTotalBytes)");
        long fileBytes = (long) n * fileItemSize(t.dataType());
        ByteBuffer raw = t.raw();
        if (t.isExternal()) raw = external(t, fileBytes, where);
        if (raw != null) {
            if (raw.remaining() != fileBytes) {
                throw KilnFormatException.at(where, "raw_data holds " + raw.remaining() + " bytes but " + OnnxProto.dataTypeName(t.dataType()) + java.util.Arrays.toString(dims)
                        + " needs " + fileBytes);
            }
            return fromRaw(raw.duplicate().order(ByteOrder.LITTLE_ENDIAN), t.dataType(), shape, n, where);
        }
        return fromTyped(t, dtype, shape, n, where);
    }

    private ByteBuffer external(Tensor t, long fileBytes, String where) throws IOException {
        if (modelDir == null) throw KilnFormatException.at(where, "uses external data, which needs the model's file (load it from a path)");
        String loc = t.externalLocation();
        Path rel;
        try {
            rel = Path.of(loc);
        } catch (java.nio.file.InvalidPathException e) {
            throw KilnFormatException.at(where, "external data location '" + loc + "' is not a valid path");
        }
        if (rel.isAbsolute() || loc.startsWith("/") || loc.startsWith("\\") || loc.contains(":")) {
            throw KilnFormatException.at(where, "external data location '" + loc + "' is absolute; it must be a file beside the model");
        }
        for (Path part : rel) {
            if (part.toString().equals("..")) throw KilnFormatException.at(where, "external data location '" + loc + "' leaves the model's folder ('..')");
        }
        Path file = modelDir.resolve(rel).normalize();
        if (!Files.isRegularFile(file)) throw KilnFormatException.at(where, "external data file '" + loc + "' does not exist beside the model");
        Path real = file.toRealPath(), dir = modelDir.toRealPath();
        if (!real.startsWith(dir)) throw KilnFormatException.at(where, "external data file '" + loc + "' resolves outside the model's folder");
        long size = Files.size(real);
        long offset = t.externalOffset(), length = t.externalLength() < 0 ? fileBytes : t.externalLength();
        if (length != fileBytes) throw KilnFormatException.at(where, "external data length " + length + " but the tensor needs " + fileBytes + " bytes");
        if (offset > size || length > size - offset) {
            throw KilnFormatException.at(where, "external data [" + offset + ", " + (offset + length) + ") lies outside '" + loc + "' (" + size + " bytes)");
        }
        ByteBuffer b = ByteBuffer.allocate((int) length);
        try (FileChannel ch = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long pos = offset;
            while (b.hasRemaining()) {
                int r = ch.read(b, pos);
                if (r < 0) throw KilnFormatException.at(where, "external data file '" + loc + "' ended early");
                pos += r;
            }
        }
        return b.flip();
    }

    private static Strided fromRaw(ByteBuffer b, int type, int[] shape, int n, String where) {
        switch (type) {
            case OnnxProto.FLOAT: {
                float[] a = new float[n];
                b.asFloatBuffer().get(a);
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(a), shape);
            }
            case OnnxProto.DOUBLE: {
                double[] a = new double[n];
                b.asDoubleBuffer().get(a);
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(a), shape);
            }
            case OnnxProto.FLOAT16, OnnxProto.BFLOAT16: {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    short h = b.getShort(2 * i);
                    a[i] = type == OnnxProto.BFLOAT16 ? dev.kiln.serialization.TensorBytes.bfloat16ToFloat(h) : dev.kiln.serialization.TensorBytes.halfToFloat(h);
                }
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(a), shape);
            }
            case OnnxProto.BOOL: {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    byte x = b.get(i);
                    if (x != 0 && x != 1) throw KilnFormatException.at(where, "bool element " + i + " is " + x + " (must be 0 or 1)");
                    a[i] = x == 1;
                }
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(a), shape);
            }
            default: {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = switch (type) {
                        case OnnxProto.INT64, OnnxProto.UINT64 -> b.getLong(8 * i);
                        case OnnxProto.INT32 -> b.getInt(4 * i);
                        case OnnxProto.UINT32 -> b.getInt(4 * i) & 0xffffffffL;
                        case OnnxProto.INT16 -> b.getShort(2 * i);
                        case OnnxProto.UINT16 -> b.getShort(2 * i) & 0xffff;
                        case OnnxProto.INT8 -> b.get(i);
                        default -> b.get(i) & 0xff;
                    };
                }
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(a), shape);
            }
        }
    }

    private static Strided fromTyped(Tensor t, DType dtype, int[] shape, int n, String where) {
        int type = t.dataType();
        int have = switch (type) {
            case OnnxProto.FLOAT -> t.floats().length;
            case OnnxProto.DOUBLE -> t.doubles().length;
            case OnnxProto.INT64 -> t.int64s().length;
            default -> t.int32s().length; // int32_data holds int32, the narrow ints, bool, float16 bits
        };
        if (have != n) throw KilnFormatException.at(where, "holds " + have + " values but " + OnnxProto.dataTypeName(type) + java.util.Arrays.toString(t.dims()) + " needs " + n);
        switch (type) {
            case OnnxProto.FLOAT:
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(t.floats().clone()), shape);
            case OnnxProto.DOUBLE:
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(t.doubles().clone()), shape);
            case OnnxProto.INT64:
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(t.int64s().clone()), shape);
            case OnnxProto.BOOL: {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) a[i] = t.int32s()[i] != 0;
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(a), shape);
            }
            case OnnxProto.FLOAT16, OnnxProto.BFLOAT16: {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    short h = (short) t.int32s()[i];
                    a[i] = type == OnnxProto.BFLOAT16 ? dev.kiln.serialization.TensorBytes.bfloat16ToFloat(h) : dev.kiln.serialization.TensorBytes.halfToFloat(h);
                }
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(a), shape);
            }
            default: {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) a[i] = t.int32s()[i];
                return Strided.contiguous(dev.kiln.backend.Storage.wrap(a), shape);
            }
        }
    }
}
