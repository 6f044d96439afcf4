package dev.kiln.spark;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Numeric array columns of rows read into Java arrays, with errors that name the column and the row's problem. */
final class RowArrays {
    private RowArrays() {}

    /** Fails unless {@code column} is an array of numbers (ML vectors: convert them with functions.vector_to_array first). */
    static int checkColumn(StructType schema, String column) {
        int i;
        try {
            i = schema.fieldIndex(column);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("no column '" + column + "' in " + schema.simpleString());
        }
        StructField f = schema.fields()[i];
        DataType t = f.dataType();
        if (t instanceof ArrayType a && numeric(a.elementType())) return i;
        String hint = t.typeName().equals("vector") ? " (an ML vector column: convert it with org.apache.spark.ml.functions.vector_to_array)" : "";
        throw new IllegalArgumentException("column '" + column + "' is " + t.simpleString() + ", expected an array of numbers" + hint);
    }

    private static boolean numeric(DataType t) {
        return t.equals(DataTypes.FloatType) || t.equals(DataTypes.DoubleType) || t.equals(DataTypes.IntegerType)
                || t.equals(DataTypes.LongType) || t.equals(DataTypes.ShortType) || t.equals(DataTypes.ByteType);
    }

    /** The row's array in {@code column} (index {@code col}) into {@code dest} at {@code offset}; it must have {@code length} entries. */
    static void read(Row row, int col, String column, int length, float[] dest, int offset) {
        if (row.isNullAt(col)) throw new IllegalArgumentException("column '" + column + "' is null in a row; expected " + length + " numbers");
        read(row.getList(col), column, length, dest, offset);
    }

    /** One row's numbers into {@code dest} at {@code offset}; there must be {@code length} of them, none null. */
    static void read(List<Object> values, String column, int length, float[] dest, int offset) {
        if (values.size() != length) {
            throw new IllegalArgumentException("column '" + column + "' has " + values.size() + " numbers in a row; the model takes " + length + " per row");
        }
        for (int i = 0; i < length; i++) {
            Object v = values.get(i);
            if (v == null) throw new IllegalArgumentException("column '" + column + "' has a null at position " + i + " of a row");
            dest[offset + i] = ((Number) v).floatValue();
        }
    }
}
