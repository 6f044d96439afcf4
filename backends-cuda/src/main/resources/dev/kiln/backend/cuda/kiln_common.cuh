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

// The four basic operations rounded on their own: NVRTC contracts a*b + c into an FMA by
// default, so a fused kernel would round differently from the same ops run one kernel each
// (and from the CPU, which never contracts). Generated code uses these for +, -, *, /.
__device__ __forceinline__ float k_add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ double k_add(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ float k_sub(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ double k_sub(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ float k_mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double k_mul(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float k_div(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ double k_div(double a, double b) { return __ddiv_rn(a, b); }
__device__ __forceinline__ float k_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double k_abs(double x) { return fabs(x); }

template <typename T> __device__ __forceinline__ bool k_isnan(T x) { return x != x; }

// What each elementwise op computes is written in its ElementwiseSpec (Op.java); these are the
// functions those CUDA expressions call, with PyTorch's special values as the CPU kernels have
// them: sign(±0) = sign(NaN) = +0, relu keeps NaN and -0, a sigmoid that never overflows.
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
// float results of these are computed in double and rounded once, as the CPU's spec says: in
// float, 1 + erf(x) and 1 + tanh(x) cancel in the negative tail (hundreds of ulps at x = -3)
// and exp underflows where x * sigmoid(x) is still a subnormal
__device__ __forceinline__ float k_gelu(float x) { return (float) k_gelu<double>((double) x); }
__device__ __forceinline__ float k_gelu_tanh(float x) { return (float) k_gelu_tanh<double>((double) x); }
__device__ __forceinline__ float k_sigmoid(float x) { return (float) k_sigmoid<double>((double) x); }
__device__ __forceinline__ float k_silu(float x) { return (float) k_silu<double>((double) x); }
// torch.clamp as std::min(std::max(x, lo), hi): min first (min > max gives max everywhere),
// NaN x stays NaN, -0 stays -0 against a 0 bound, a NaN bound gives NaN
template <typename T> __device__ __forceinline__ T k_clamp(T x, T lo, T hi) {
    if (k_isnan(lo) || k_isnan(hi)) return lo + hi;
    T m = x < lo ? lo : x;
    return hi < m ? hi : m;
}
// NaN-propagating; on a tie (±0) the first operand, as torch.maximum / torch.minimum
template <typename T> __device__ __forceinline__ T k_maximum(T a, T b) { return (k_isnan(a) || k_isnan(b)) ? a + b : (a >= b ? a : b); }
template <typename T> __device__ __forceinline__ T k_minimum(T a, T b) { return (k_isnan(a) || k_isnan(b)) ? a + b : (a <= b ? a : b); }
