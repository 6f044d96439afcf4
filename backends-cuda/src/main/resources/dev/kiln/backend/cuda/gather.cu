// Index kernels. index_select is the embedding lookup: out[o, k, i] = x[o, idx[k], i] for a
// contiguous x viewed as [outer, dimSize, inner]. gather / scatter_add follow torch.gather on
// contiguous operands viewed as [outer, size, inner]. Negative indices count from the end; an
// index out of range is not clamped: the kernel records it in *err and the host raises an
// error naming the op and the bad index.

template <typename T>
__device__ void index_select(int total, const T* x, const kiln_i64* idx, int dimSize, int k, int inner, T* out, kiln_i64* err) {
    KILN_GRID_STRIDE(e, total) {
        int i = e % inner;
        int t = e / inner;
        int kk = t % k;
        int o = t / k;
        kiln_i64 j = idx[kk];
        if (j < 0) j += dimSize;
        if (j < 0 || j >= dimSize) {
            *err = idx[kk];
            out[e] = T(0);
        } else {
            out[e] = x[((long long) o * dimSize + j) * inner + i];
        }
    }
}

// out and idx are [outer, k, inner]; x is [outer, dimSize, inner]
template <typename T>
__device__ void gather(int total, const T* x, const kiln_i64* idx, int dimSize, int k, int inner, T* out, kiln_i64* err) {
    KILN_GRID_STRIDE(e, total) {
        int i = e % inner;
        int o = e / inner / k;
        kiln_i64 j = idx[e];
        if (j < 0) j += dimSize;
        if (j < 0 || j >= dimSize) {
            *err = idx[e];
            out[e] = T(0);
        } else {
            out[e] = x[((long long) o * dimSize + j) * inner + i];
        }
    }
}

// out (already a copy of self) is [outer, dimSize, inner]; idx and src are [outer, k, inner].
// Duplicate indices accumulate through atomicAdd, so float sums may differ in the last bits
// from run to run (documented in docs/cuda.md).
template <typename T>
__device__ void scatter_add(int total, const T* src, const kiln_i64* idx, int dimSize, int k, int inner, T* out, kiln_i64* err) {
    KILN_GRID_STRIDE(e, total) {
        int i = e % inner;
        int o = e / inner / k;
        kiln_i64 j = idx[e];
        if (j < 0) j += dimSize;
        if (j < 0 || j >= dimSize) {
            *err = idx[e];
        } else {
            atomicAdd(out + ((long long) o * dimSize + j) * inner + i, src[e]);
        }
    }
}

#define KILN_INDEX_KERNELS(T, NAME)                                                                                   \
    extern "C" __global__ void kiln_index_select_##NAME(int total, const T* x, const kiln_i64* idx, int dimSize, int k, \
                                                        int inner, T* out, kiln_i64* err) {                           \
        index_select<T>(total, x, idx, dimSize, k, inner, out, err);                                                  \
    }                                                                                                                 \
    extern "C" __global__ void kiln_gather_##NAME(int total, const T* x, const kiln_i64* idx, int dimSize, int k,      \
                                                  int inner, T* out, kiln_i64* err) {                                 \
        gather<T>(total, x, idx, dimSize, k, inner, out, err);                                                        \
    }                                                                                                                 \
    extern "C" __global__ void kiln_scatter_add_##NAME(int total, const T* src, const kiln_i64* idx, int dimSize,      \
                                                       int k, int inner, T* out, kiln_i64* err) {                     \
        scatter_add<T>(total, src, idx, dimSize, k, inner, out, err);                                                 \
    }

KILN_INDEX_KERNELS(float, f32)
KILN_INDEX_KERNELS(double, f64)
