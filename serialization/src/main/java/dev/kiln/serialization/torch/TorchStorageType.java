package dev.kiln.serialization.torch;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.serialization.KilnFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The storage classes a weights-only load accepts ({@code torch.FloatStorage}, ...) with their
 * element size in the file and the Kiln dtype they become. Kiln has f32, f64, i64 and bool, so
 * half and bfloat16 widen exactly to f32 and the narrow integers to i64; every value survives.
 */
enum TorchStorageType {
    FLOAT("FloatStorage", 4, DType.FLOAT32),
    DOUBLE("DoubleStorage", 8, DType.FLOAT64),
    HALF("HalfStorage", 2, DType.FLOAT32),
    BFLOAT16("BFloat16Storage", 2, DType.FLOAT32),
    LONG("LongStorage", 8, DType.INT64),
    INT("IntStorage", 4, DType.INT64),
    SHORT("ShortStorage", 2, DType.INT64),
    CHAR("CharStorage", 1, DType.INT64),
    BYTE("ByteStorage", 1, DType.INT64),
    BOOL("BoolStorage", 1, DType.BOOL);

    final String className;
    final int fileItemSize;
    final DType dtype;

    TorchStorageType(String className, int fileItemSize, DType dtype) {
        this.className = className;
        this.fileItemSize = fileItemSize;
        this.dtype = dtype;
    }

    /** The storage class {@code torch.<name>}, or null when Kiln does not read it. */
    static TorchStorageType byClassName(String name) {
        for (TorchStorageType t : values()) if (t.className.equals(name)) return t;
        return null;
    }

    /** Decodes exactly {@code numel} little-endian elements; {@code where} names the entry in errors. */
    Storage decode(byte[] bytes, int numel, String where) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        switch (this) {
            case FLOAT: {
                float[] a = new float[numel];
                b.asFloatBuffer().get(a);
                return Storage.wrap(a);
            }
            case DOUBLE: {
                double[] a = new double[numel];
                b.asDoubleBuffer().get(a);
                return Storage.wrap(a);
            }
            case HALF: {
                float[] a = new float[numel];
                for (int i = 0; i < numel; i++) a[i] = dev.kiln.serialization.TensorBytes.halfToFloat(b.getShort(2 * i));
                return Storage.wrap(a);
            }
            case BFLOAT16: {
                float[] a = new float[numel];
                for (int i = 0; i < numel; i++) a[i] = dev.kiln.serialization.TensorBytes.bfloat16ToFloat(b.getShort(2 * i));
                return Storage.wrap(a);
            }
            case BOOL: {
                boolean[] a = new boolean[numel];
                for (int i = 0; i < numel; i++) {
                    byte x = bytes[i];
                    if (x != 0 && x != 1) throw KilnFormatException.at(where, "bool element " + i + " is " + x + " (must be 0 or 1)");
                    a[i] = x == 1;
                }
                return Storage.wrap(a);
            }
            default: {
                long[] a = new long[numel];
                for (int i = 0; i < numel; i++) {
                    a[i] = switch (this) {
                        case LONG -> b.getLong(8 * i);
                        case INT -> b.getInt(4 * i);
                        case SHORT -> b.getShort(2 * i);
                        case CHAR -> bytes[i];
                        default -> bytes[i] & 0xff; // ByteStorage is uint8
                    };
                }
                return Storage.wrap(a);
            }
        }
    }
}
