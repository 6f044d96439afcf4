// Reductions over trailing dims. The host permutes the view so the reduced dims come last
// (a strided view, no copy): row r, element j is row-major position r * len + j. One block
// reduces one row with a shared-memory tree, so the summation order is fixed by the block
// size, not by scheduling: results are deterministic run to run.

#define KILN_REDUCE_THREADS 256

enum KReduce { R_SUM, R_PROD, R_AMAX, R_AMIN };

template <typename A> __device__ __forceinline__ A reduce_identity(int op) {
    switch (op) {
        case R_SUM: return A(0);
        case R_PROD: return A(1);
        case R_AMAX: return -kiln_pos_inf(A(0));
        default: return kiln_pos_inf(A(0));
    }
}

template <typename A> __device__ __forceinline__ A reduce_combine(int op, A x, A y) {
    switch (op) {
        case R_SUM: return x + y;
        case R_PROD: return x * y;
        case R_AMAX: return k_maximum(x, y);
        default: return k_minimum(x, y);
    }
}

// Integer reductions (sums of labels or of a comparison cast to i64): no infinities, no NaN.
template <> __device__ __forceinline__ kiln_i64 reduce_identity<kiln_i64>(int op) {
    switch (op) {
        case R_SUM: return 0;
        case R_PROD: return 1;
        case R_AMAX: return -0x7fffffffffffffffLL - 1;
        default: return 0x7fffffffffffffffLL;
    }
}

template <> __device__ __forceinline__ kiln_i64 reduce_combine<kiln_i64>(int op, kiln_i64 x, kiln_i64 y) {
    switch (op) {
        case R_SUM: return x + y;
        case R_PROD: return x * y;
        case R_AMAX: return x > y ? x : y;
        default: return x < y ? x : y;
    }
}

// A is the accumulator type: f32 sums accumulate in f64, as the CPU kernels do.
template <typename T, typename A>
__device__ void reduce_rows(int op, int rows, int len, const KShape& sh, const T* x, const KStrides& sx, int ox, T* out) {
    __shared__ A part[KILN_REDUCE_THREADS];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        A acc = reduce_identity<A>(op);
        for (int j = threadIdx.x; j < len; j += blockDim.x) {
            acc = reduce_combine<A>(op, acc, (A) x[kiln_offset(r * len + j, sh, sx, ox)]);
        }
        part[threadIdx.x] = acc;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) part[threadIdx.x] = reduce_combine<A>(op, part[threadIdx.x], part[threadIdx.x + s]);
            __syncthreads();
        }
        if (threadIdx.x == 0) out[r] = (T) part[0];
        __syncthreads();
    }
}

// Launch with blockDim.x == KILN_REDUCE_THREADS (a power of two).
extern "C" __global__ void kiln_reduce_f32(int op, int rows, int len, KShape sh, const float* x, KStrides sx, int ox, float* out) {
    reduce_rows<float, double>(op, rows, len, sh, x, sx, ox, out);
}

extern "C" __global__ void kiln_reduce_f64(int op, int rows, int len, KShape sh, const double* x, KStrides sx, int ox, double* out) {
    reduce_rows<double, double>(op, rows, len, sh, x, sx, ox, out);
}

extern "C" __global__ void kiln_reduce_i64(int op, int rows, int len, KShape sh, const kiln_i64* x, KStrides sx, int ox, kiln_i64* out) {
    reduce_rows<kiln_i64, kiln_i64>(op, rows, len, sh, x, sx, ox, out);
}

// argmax (op 0) / argmin (op 1) of each row: the index of the first maximum (minimum); NaN counts
// as the maximum (minimum), so the first NaN wins, as on the CPU. Ties resolve to the smaller
// index at every level of the tree, which keeps "first" for any block size.
template <typename T> __device__ __forceinline__ bool arg_better(int op, T a, kiln_i64 ia, T b, kiln_i64 ib) {
    bool an = a != a, bn = b != b;
    if (an || bn) return an && (!bn || ia < ib);
    if (a == b) return ia < ib;
    return op == 0 ? a > b : a < b;
}

template <typename T>
__device__ void argreduce_rows(int op, int rows, int len, const KShape& sh, const T* x, const KStrides& sx, int ox, kiln_i64* out) {
    __shared__ T value[KILN_REDUCE_THREADS];
    __shared__ kiln_i64 index[KILN_REDUCE_THREADS];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        T best = T(0);
        kiln_i64 at = -1; // -1: this thread has seen no element
        for (int j = threadIdx.x; j < len; j += blockDim.x) {
            T v = x[kiln_offset(r * len + j, sh, sx, ox)];
            if (at < 0 || arg_better<T>(op, v, j, best, at)) { best = v; at = j; }
        }
        value[threadIdx.x] = best;
        index[threadIdx.x] = at;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) {
                kiln_i64 other = index[threadIdx.x + s];
                if (other >= 0 && (index[threadIdx.x] < 0 || arg_better<T>(op, value[threadIdx.x + s], other, value[threadIdx.x], index[threadIdx.x]))) {
                    value[threadIdx.x] = value[threadIdx.x + s];
                    index[threadIdx.x] = other;
                }
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) out[r] = index[0];
        __syncthreads();
    }
}

extern "C" __global__ void kiln_argreduce_f32(int op, int rows, int len, KShape sh, const float* x, KStrides sx, int ox, kiln_i64* out) {
    argreduce_rows<float>(op, rows, len, sh, x, sx, ox, out);
}

extern "C" __global__ void kiln_argreduce_f64(int op, int rows, int len, KShape sh, const double* x, KStrides sx, int ox, kiln_i64* out) {
    argreduce_rows<double>(op, rows, len, sh, x, sx, ox, out);
}
