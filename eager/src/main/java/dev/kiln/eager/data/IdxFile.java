package dev.kiln.eager.data;

import dev.kiln.eager.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The contents of an IDX file: element type, dims and the big-endian data bytes. */
public record IdxFile(IdxType type, int[] dims, byte[] data) {
    /** IDX element types, by their code in the magic number. */
    public enum IdxType {
        UBYTE(0x08, 1), BYTE(0x09, 1), SHORT(0x0B, 2), INT(0x0C, 4), FLOAT(0x0D, 4), DOUBLE(0x0E, 8);

        public final int code;
        public final int size;

        IdxType(int code, int size) {
            this.code = code;
            this.size = size;
        }

        static IdxType ofCode(int code) {
            for (IdxType t : values()) if (t.code == code) return t;
            return null;
        }
    }

    public int numel() { return data.length / type.size; }

    /** Element i as a double (unsigned for UBYTE). */
    public double get(int i) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN);
        return switch (type) {
            case UBYTE -> data[i] & 0xFF;
            case BYTE -> data[i];
            case SHORT -> b.getShort(2 * i);
            case INT -> b.getInt(4 * i);
            case FLOAT -> b.getFloat(4 * i);
            case DOUBLE -> b.getDouble(8 * i);
        };
    }

    /** Integer types become int64, FLOAT float32, DOUBLE float64; the shape is the declared dims. */
    public Tensor toTensor() {
        int n = numel();
        switch (type) {
            case FLOAT -> {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) out[i] = (float) get(i);
                return Tensor.of(out, dims);
            }
            case DOUBLE -> {
                double[] out = new double[n];
                for (int i = 0; i < n; i++) out[i] = get(i);
                return Tensor.of(out, dims);
            }
            default -> {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) out[i] = (long) get(i);
                return Tensor.of(out, dims);
            }
        }
    }

    /** float32 values times {@code scale} (1/255 maps UBYTE pixels to [0, 1]), in the given shape. */
    public Tensor toFloatTensor(double scale, int... shape) {
        int n = numel();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) (get(i) * scale);
        return Tensor.of(out, shape.length == 0 ? dims : shape);
    }
}
