package dev.kiln.backend.cpu.gemm;

/**
 * Per-thread packing buffers. They only ever grow, so steady-state calls allocate nothing; one
 * instance lives in a ThreadLocal per kernel family, which keeps pool threads independent.
 */
final class Scratch {
    private float[] fa = new float[0];
    private float[] fb = new float[0];
    private double[] da = new double[0];
    private double[] db = new double[0];
    private float[] fe = new float[0];
    private double[] de = new double[0];

    float[] floatA(int size) {
        if (fa.length < size) fa = new float[size];
        return fa;
    }

    float[] floatB(int size) {
        if (fb.length < size) fb = new float[size];
        return fb;
    }

    float[] floatEdge(int size) {
        if (fe.length < size) fe = new float[size];
        return fe;
    }

    double[] doubleEdge(int size) {
        if (de.length < size) de = new double[size];
        return de;
    }

    double[] doubleA(int size) {
        if (da.length < size) da = new double[size];
        return da;
    }

    double[] doubleB(int size) {
        if (db.length < size) db = new double[size];
        return db;
    }
}
