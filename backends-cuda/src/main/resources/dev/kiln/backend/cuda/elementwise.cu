// Strided, broadcasting kernels that move or select elements: where, logical_not, cast, fill.
// Inputs are arbitrary strided views (broadcast dims have stride 0), the output is contiguous;
// one launch serves every layout, so eager never copies a transposed or expanded operand first.
// Arithmetic and comparisons are generated per op from its ElementwiseSpec (FusedKernelGenerator).

template <typename T>
__device__ void ew_where(int n, const KShape& sh, const kiln_bool* c, const KStrides& sc, int oc,
                         const T* a, const KStrides& sa, int oa, const T* b, const KStrides& sb, int ob, T* out) {
    KILN_GRID_STRIDE(i, n) {
        out[i] = c[kiln_offset(i, sh, sc, oc)] ? a[kiln_offset(i, sh, sa, oa)] : b[kiln_offset(i, sh, sb, ob)];
    }
}

// where selects whole elements, so it serves every dtype (nllLoss picks i64 class indices with it)
#define KILN_WHERE_KERNEL(T, NAME)                                                                               \
    extern "C" __global__ void kiln_where_##NAME(int n, KShape sh, const kiln_bool* c, KStrides sc, int oc,      \
                                                 const T* a, KStrides sa, int oa, const T* b, KStrides sb,       \
                                                 int ob, T* out) {                                               \
        ew_where<T>(n, sh, c, sc, oc, a, sa, oa, b, sb, ob, out);                                                \
    }

KILN_WHERE_KERNEL(float, f32)
KILN_WHERE_KERNEL(double, f64)
KILN_WHERE_KERNEL(kiln_i64, i64)
KILN_WHERE_KERNEL(kiln_bool, bool)

// logical_not of any dtype: true where the element is zero (false), as the CPU kernel.
#define KILN_LOGICAL_NOT_KERNEL(T, NAME)                                                                         \
    extern "C" __global__ void kiln_logical_not_##NAME(int n, KShape sh, const T* x, KStrides sx, int ox,        \
                                                       kiln_bool* out) {                                         \
        KILN_GRID_STRIDE(i, n) out[i] = x[kiln_offset(i, sh, sx, ox)] == (T) 0;                                  \
    }

KILN_LOGICAL_NOT_KERNEL(float, f32)
KILN_LOGICAL_NOT_KERNEL(double, f64)
KILN_LOGICAL_NOT_KERNEL(kiln_i64, i64)
KILN_LOGICAL_NOT_KERNEL(kiln_bool, bool)

// Strided copy with conversion: serves cast, clone and "make contiguous". Float to integer
// truncates toward zero and anything to bool tests for nonzero, as the CPU cast does.
template <typename S, typename D> __device__ __forceinline__ D kiln_convert(S v) { return (D) v; }
template <> __device__ __forceinline__ kiln_bool kiln_convert<float, kiln_bool>(float v) { return v != 0.0f; }
template <> __device__ __forceinline__ kiln_bool kiln_convert<double, kiln_bool>(double v) { return v != 0.0; }
template <> __device__ __forceinline__ kiln_bool kiln_convert<kiln_i64, kiln_bool>(kiln_i64 v) { return v != 0; }

#define KILN_CAST_KERNEL(S, SN, D, DN)                                                                           \
    extern "C" __global__ void kiln_cast_##SN##_##DN(int n, KShape sh, const S* x, KStrides sx, int ox, D* out) { \
        KILN_GRID_STRIDE(i, n) out[i] = kiln_convert<S, D>(x[kiln_offset(i, sh, sx, ox)]);                       \
    }

#define KILN_CAST_FROM(S, SN)          \
    KILN_CAST_KERNEL(S, SN, float, f32) \
    KILN_CAST_KERNEL(S, SN, double, f64) \
    KILN_CAST_KERNEL(S, SN, kiln_i64, i64) \
    KILN_CAST_KERNEL(S, SN, kiln_bool, bool)

KILN_CAST_FROM(float, f32)
KILN_CAST_FROM(double, f64)
KILN_CAST_FROM(kiln_i64, i64)
KILN_CAST_FROM(kiln_bool, bool)

#define KILN_FILL_KERNEL(T, NAME) \
    extern "C" __global__ void kiln_fill_##NAME(int n, T value, T* out) { KILN_GRID_STRIDE(i, n) out[i] = value; }

KILN_FILL_KERNEL(float, f32)
KILN_FILL_KERNEL(double, f64)
KILN_FILL_KERNEL(kiln_i64, i64)
KILN_FILL_KERNEL(kiln_bool, bool)
