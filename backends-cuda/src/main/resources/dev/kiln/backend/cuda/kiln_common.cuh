// Shared prelude of every Kiln kernel source. CudaKernelSources prepends it to each .cu file
// because NVRTC has no include path; for the same reason nothing here includes a host header
// (no math.h or its constants): only NVRTC built-ins are used, so what nvcc -ptx accepts in the
// tests is what NVRTC accepts at run time.

#define KILN_MAX_DIMS 8

typedef long long kiln_i64;
typedef unsigned char kiln_bool;

// Passed by value as kernel parameters; the Java side packs them as int arrays of the same
// layout (rank, then KILN_MAX_DIMS dims; KILN_MAX_DIMS strides).
struct KShape { int rank; int d[KILN_MAX_DIMS]; };
struct KStrides { int s[KILN_MAX_DIMS]; };

// Storage offset of the element at row-major position flat of a strided view. Broadcast
// operands carry stride 0 in expanded dims, so one loop serves every broadcasting pattern.
__device__ __forceinline__ int kiln_offset(int flat, const KShape& sh, const KStrides& st, int base) {
    int off = base;
    for (int k = sh.rank - 1; k >= 0; --k) {
        int dim = sh.d[k];
        off += (flat % dim) * st.s[k];
        flat /= dim;
    }
    return off;
}

#define KILN_GRID_STRIDE(i, n) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)

__device__ __forceinline__ float kiln_pos_inf(float) { return __int_as_float(0x7f800000); }
__device__ __forceinline__ double kiln_pos_inf(double) { return __longlong_as_double(0x7ff0000000000000LL); }

// ---- scalar math, overloaded so one template body serves f32 and f64 ----
__device__ __forceinline__ float k_exp(float x) { return expf(x); }
__device__ __forceinline__ double k_exp(double x) { return exp(x); }
__device__ __forceinline__ float k_log(float x) { return logf(x); }
__device__ __forceinline__ double k_log(double x) { return log(x); }
__device__ __forceinline__ float k_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double k_log1p(double x) { return log1p(x); }
__device__ __forceinline__ float k_expm1(float x) { return expm1f(x); }
__device__ __forceinline__ double k_expm1(double x) { return expm1(x); }
__device__ __forceinline__ float k_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double k_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float k_sin(float x) { return sinf(x); }
__device__ __forceinline__ double k_sin(double x) { return sin(x); }
__device__ __forceinline__ float k_cos(float x) { return cosf(x); }
__device__ __forceinline__ double k_cos(double x) { return cos(x); }
__device__ __forceinline__ float k_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double k_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float k_erf(float x) { return erff(x); }
__device__ __forceinline__ double k_erf(double x) { return erf(x); }
__device__ __forceinline__ float k_floor(float x) { return floorf(x); }
__device__ __forceinline__ double k_floor(double x) { return floor(x); }
__device__ __forceinline__ float k_ceil(float x) { return ceilf(x); }
__device__ __forceinline__ double k_ceil(double x) { return ceil(x); }
__device__ __forceinline__ float k_rint(float x) { return rintf(x); }
__device__ __forceinline__ double k_rint(double x) { return rint(x); }
__device__ __forceinline__ float k_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double k_pow(double a, double b) { return pow(a, b); }

template <typename T> __device__ __forceinline__ bool k_isnan(T x) { return x != x; }

// Same semantics as the CPU kernels (MathFns): NaN-propagating max/min, sign(NaN) = 0,
// a sigmoid that never overflows, round half to even.
template <typename T> __device__ __forceinline__ T k_sign(T x) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); }
template <typename T> __device__ __forceinline__ T k_sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + k_exp(-x));
    T e = k_exp(x);
    return e / (T(1) + e);
}
template <typename T> __device__ __forceinline__ T k_relu(T x) { return x < T(0) ? T(0) : x; }
template <typename T> __device__ __forceinline__ T k_gelu(T x) { return T(0.5) * x * (T(1) + k_erf(x * T(0.7071067811865476))); }
template <typename T> __device__ __forceinline__ T k_gelu_tanh(T x) {
    return T(0.5) * x * (T(1) + k_tanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x)));
}
template <typename T> __device__ __forceinline__ T k_silu(T x) { return x * k_sigmoid(x); }
// torch.clamp: min first, then max (min > max gives max everywhere); NaN stays NaN
template <typename T> __device__ __forceinline__ T k_clamp(T x, T lo, T hi) {
    if (k_isnan(x)) return x;
    T m = x < lo ? lo : x;
    return m > hi ? hi : m;
}
template <typename T> __device__ __forceinline__ T k_maximum(T a, T b) { return (k_isnan(a) || k_isnan(b)) ? a + b : (a > b ? a : b); }
template <typename T> __device__ __forceinline__ T k_minimum(T a, T b) { return (k_isnan(a) || k_isnan(b)) ? a + b : (a < b ? a : b); }

// Op codes shared with CudaOpCodes.java (same order there).
enum KUnary {
    U_NEG, U_ABS, U_SIGN, U_EXP, U_LOG, U_LOG1P, U_EXPM1, U_SQRT, U_RSQRT, U_RECIPROCAL, U_SIN, U_COS, U_TANH,
    U_SIGMOID, U_RELU, U_GELU, U_GELU_TANH, U_SILU, U_ERF, U_FLOOR, U_CEIL, U_ROUND, U_CLAMP, U_IDENTITY
};
enum KBinary { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM };
enum KCompare { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_AND, C_OR, C_XOR };

template <typename T> __device__ __forceinline__ T kiln_unary(int op, T x, T lo, T hi) {
    switch (op) {
        case U_NEG: return -x;
        case U_ABS: return x < T(0) ? -x : (x == T(0) ? T(0) : x);
        case U_SIGN: return k_sign(x);
        case U_EXP: return k_exp(x);
        case U_LOG: return k_log(x);
        case U_LOG1P: return k_log1p(x);
        case U_EXPM1: return k_expm1(x);
        case U_SQRT: return k_sqrt(x);
        case U_RSQRT: return T(1) / k_sqrt(x);
        case U_RECIPROCAL: return T(1) / x;
        case U_SIN: return k_sin(x);
        case U_COS: return k_cos(x);
        case U_TANH: return k_tanh(x);
        case U_SIGMOID: return k_sigmoid(x);
        case U_RELU: return k_relu(x);
        case U_GELU: return k_gelu(x);
        case U_GELU_TANH: return k_gelu_tanh(x);
        case U_SILU: return k_silu(x);
        case U_ERF: return k_erf(x);
        case U_FLOOR: return k_floor(x);
        case U_CEIL: return k_ceil(x);
        case U_ROUND: return k_rint(x);
        case U_CLAMP: return k_clamp(x, lo, hi);
        default: return x;
    }
}

template <typename T> __device__ __forceinline__ T kiln_binary(int op, T a, T b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_POW: return k_pow(a, b);
        case B_MAXIMUM: return k_maximum(a, b);
        default: return k_minimum(a, b);
    }
}

template <typename T> __device__ __forceinline__ kiln_bool kiln_compare(int op, T a, T b) {
    switch (op) {
        case C_EQ: return a == b;
        case C_NE: return a != b;
        case C_LT: return a < b;
        case C_LE: return a <= b;
        case C_GT: return a > b;
        case C_GE: return a >= b;
        case C_AND: return (a != T(0)) && (b != T(0));
        case C_OR: return (a != T(0)) || (b != T(0));
        default: return (a != T(0)) != (b != T(0));
    }
}
