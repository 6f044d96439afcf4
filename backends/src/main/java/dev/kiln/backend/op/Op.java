package dev.kiln.backend.op;

import static dev.kiln.backend.op.AttrSpec.bool;
import static dev.kiln.backend.op.AttrSpec.choice;
import static dev.kiln.backend.op.AttrSpec.dtype;
import static dev.kiln.backend.op.AttrSpec.integer;
import static dev.kiln.backend.op.AttrSpec.ints;
import static dev.kiln.backend.op.AttrSpec.optionalDtype;
import static dev.kiln.backend.op.AttrSpec.optionalInt;
import static dev.kiln.backend.op.AttrSpec.optionalReal;
import static dev.kiln.backend.op.AttrSpec.real;
import static dev.kiln.backend.op.ElementwiseSpec.template;
import static dev.kiln.backend.op.OpKind.BINARY;
import static dev.kiln.backend.op.OpKind.CONTROL;
import static dev.kiln.backend.op.OpKind.CREATION;
import static dev.kiln.backend.op.OpKind.INDEX;
import static dev.kiln.backend.op.OpKind.LINALG;
import static dev.kiln.backend.op.OpKind.NN;
import static dev.kiln.backend.op.OpKind.REDUCTION;
import static dev.kiln.backend.op.OpKind.SHAPE;
import static dev.kiln.backend.op.OpKind.TERNARY;
import static dev.kiln.backend.op.OpKind.UNARY;
import static dev.kiln.backend.op.OpKind.VIEW;

import dev.kiln.backend.cpu.MathFns;
import dev.kiln.backend.cpu.vector.FloatRows;
import java.util.HashMap;
import java.util.Map;

/**
 * The closed set of primitive ops. Each constant is the one definition site of its op
 * (name, arity, attributes, type rule, doc); composite operations are Tensor methods built
 * from these. docs/ops.md is generated from this table ({@code OpReference}).
 */
public enum Op {
    // ---- unary elementwise ----
    NEG(unary("neg", ShapeRules::unaryNumeric, "-x")
            .elementwise(ElementwiseSpec.unary(x -> -x).integer(x -> -x).rows(FloatRows.Unary.NEG).cuda(template("-%a")))),
    ABS(unary("abs", ShapeRules::unaryNumeric, "|x|; gradient sign(x), 0 at 0")
            .elementwise(ElementwiseSpec.unary(Math::abs).integer(Math::abs).rows(FloatRows.Unary.ABS).cuda("k_abs"))),
    SIGN(unary("sign", ShapeRules::same, "-1, 0 or 1 (+0 for ±0 and for NaN, as PyTorch; bool stays bool); gradient 0")
            .elementwise(ElementwiseSpec.unary(MathFns::sign).integer(Long::signum).cuda("k_sign"))),
    EXP(unary("exp", ShapeRules::unaryFloat, "e^x").elementwise(ElementwiseSpec.unary(Math::exp).rows(FloatRows.Unary.EXP).cuda("k_exp"))),
    LOG(unary("log", ShapeRules::unaryFloat, "natural logarithm; -inf at 0, NaN below").elementwise(ElementwiseSpec.unary(Math::log).cuda("k_log"))),
    LOG1P(unary("log1p", ShapeRules::unaryFloat, "log(1 + x), accurate near 0").elementwise(ElementwiseSpec.unary(Math::log1p).cuda("k_log1p"))),
    EXPM1(unary("expm1", ShapeRules::unaryFloat, "e^x - 1, accurate near 0").elementwise(ElementwiseSpec.unary(Math::expm1).cuda("k_expm1"))),
    SQRT(unary("sqrt", ShapeRules::unaryFloat, "square root; gradient +inf at 0 as PyTorch")
            .elementwise(ElementwiseSpec.unary(Math::sqrt).rows(FloatRows.Unary.SQRT).cuda("k_sqrt"))),
    RSQRT(unary("rsqrt", ShapeRules::unaryFloat, "1 / sqrt(x)").elementwise(ElementwiseSpec.unary(x -> 1.0 / Math.sqrt(x)).cuda(template("k_div(%T(1), k_sqrt(%a))")))),
    RECIPROCAL(unary("reciprocal", ShapeRules::unaryFloat, "1 / x").elementwise(ElementwiseSpec.unary(x -> 1.0 / x).cuda(template("k_div(%T(1), %a)")))),
    SIN(unary("sin", ShapeRules::unaryFloat, "sine").elementwise(ElementwiseSpec.unary(Math::sin).cuda("k_sin"))),
    COS(unary("cos", ShapeRules::unaryFloat, "cosine").elementwise(ElementwiseSpec.unary(Math::cos).cuda("k_cos"))),
    TANH(unary("tanh", ShapeRules::unaryFloat, "hyperbolic tangent").elementwise(ElementwiseSpec.unary(Math::tanh).rows(FloatRows.Unary.TANH).cuda("k_tanh"))),
    SIGMOID(unary("sigmoid", ShapeRules::unaryFloat, "1 / (1 + e^-x)")
            .elementwise(ElementwiseSpec.unary(MathFns::sigmoid).rows(FloatRows.Unary.SIGMOID).cuda("k_sigmoid"))),
    RELU(unary("relu", ShapeRules::unaryNumeric, "max(x, 0), keeping NaN and -0 as PyTorch; gradient 0 at 0 as PyTorch")
            .elementwise(ElementwiseSpec.unary(MathFns::relu).integer(x -> Math.max(x, 0)).rows(FloatRows.Unary.RELU).cuda("k_relu"))),
    GELU(unary("gelu", ShapeRules::unaryFloat, "Gaussian error linear unit, exact (erf) or tanh approximation")
            .attrs(choice("approximate", "none", "none", "tanh"))
            // float32 results use a Chebyshev erfc fit (below half a float ulp); float64 keeps the exact series
            .elementwise(ElementwiseSpec.unaryWithAttrs(a -> tanhGelu(a) ? MathFns::geluTanh : MathFns::gelu)
                    .float32(a -> tanhGelu(a) ? MathFns::geluTanh : MathFns::geluFloat)
                    .rowsWithAttrs(a -> tanhGelu(a) ? null : FloatRows.Unary.GELU)
                    .cuda((a, t, x) -> (tanhGelu(a) ? "k_gelu_tanh(" : "k_gelu(") + x[0] + ")"))),
    SILU(unary("silu", ShapeRules::unaryFloat, "x * sigmoid(x)").elementwise(ElementwiseSpec.unary(MathFns::silu).cuda("k_silu"))),
    ERF(unary("erf", ShapeRules::unaryFloat, "the error function")
            // float32 results use a fixed polynomial and fit (about 1e-7); float64 keeps the exact series
            .elementwise(ElementwiseSpec.unary(MathFns::erf).float32(a -> MathFns::erfFloat).rows(FloatRows.Unary.ERF).cuda("k_erf"))),
    FLOOR(unary("floor", ShapeRules::unaryNumeric, "round down; gradient 0").elementwise(ElementwiseSpec.unary(Math::floor).integer(x -> x).cuda("k_floor"))),
    CEIL(unary("ceil", ShapeRules::unaryNumeric, "round up; gradient 0").elementwise(ElementwiseSpec.unary(Math::ceil).integer(x -> x).cuda("k_ceil"))),
    ROUND(unary("round", ShapeRules::unaryNumeric, "round half to even; gradient 0").elementwise(ElementwiseSpec.unary(Math::rint).integer(x -> x).cuda("k_rint"))),
    CLAMP(unary("clamp", ShapeRules::unaryNumeric, "min(max(x, min), max); either bound may be absent; a NaN bound gives NaN;"
            + " gradient 1 inside [min, max] (bounds included)")
            .attrs(optionalReal("min"), optionalReal("max"))
            .elementwise(ElementwiseSpec.unaryWithAttrs(a -> { double lo = lower(a), hi = upper(a); return x -> MathFns.clamp(x, lo, hi); })
                    .integerWithAttrs(a -> { long lo = longBound(lower(a), true), hi = longBound(upper(a), false); return x -> MathFns.clamp(x, lo, hi); })
                    .cuda((a, t, x) -> "k_clamp(" + x[0] + ", " + ElementwiseSpec.literal(lower(a), t) + ", " + ElementwiseSpec.literal(upper(a), t) + ")"))),
    LOGICAL_NOT(unary("logical_not", ShapeRules::unaryBool, "true where x is zero/false").notDifferentiable()),
    CAST(unary("cast", ShapeRules::cast, "convert to another dtype (float to int truncates toward zero)").attrs(dtype("dtype"))
            .elementwise(ElementwiseSpec.conversion())),
    CLONE(unary("clone", ShapeRules::same, "a contiguous copy").elementwise(ElementwiseSpec.conversion())),
    FULL_LIKE(OpDef.builder("full_like", CREATION).inputs(1).rule(ShapeRules::fullLike).notDifferentiable()
            .attrs(real("value"), optionalDtype("dtype"))
            .doc("a tensor shaped like the input, filled with value (the input's data is not read)")),

    // ---- binary elementwise (broadcasting) ----
    ADD(binary("add", ShapeRules::binaryArith, "a + b (bool + bool is logical or)")
            .elementwise(ElementwiseSpec.binary(Double::sum).integer(Long::sum).rows(FloatRows.Binary.ADD).cuda("k_add"))),
    SUB(binary("sub", ShapeRules::binaryArith, "a - b")
            .elementwise(ElementwiseSpec.binary((x, y) -> x - y).integer((x, y) -> x - y).rows(FloatRows.Binary.SUB).cuda("k_sub"))),
    MUL(binary("mul", ShapeRules::binaryArith, "a * b (bool * bool is logical and)")
            .elementwise(ElementwiseSpec.binary((x, y) -> x * y).integer((x, y) -> x * y).rows(FloatRows.Binary.MUL).cuda("k_mul"))),
    DIV(binary("div", ShapeRules::binaryDiv, "true division a / b; integer inputs give f32")
            .elementwise(ElementwiseSpec.binary((x, y) -> x / y).rows(FloatRows.Binary.DIV).cuda("k_div"))),
    POW(binary("pow", ShapeRules::binaryArith, "a ^ b with C's special cases (pow(1, y) = 1 and pow(-1, ±inf) = 1, even for NaN y);"
            + " gradient wrt b uses log(a), 0 where a = 0 and b > 0")
            .elementwise(ElementwiseSpec.binary(MathFns::pow).integer(MathFns::powLong).cuda("k_pow"))),
    MAXIMUM(binary("maximum", ShapeRules::binaryArith, "elementwise max, NaN-propagating, the first operand on a tie (±0); ties split the gradient evenly")
            .elementwise(ElementwiseSpec.binary(MathFns::max).integer(Math::max).rows(FloatRows.Binary.MAX).cuda("k_maximum"))),
    MINIMUM(binary("minimum", ShapeRules::binaryArith, "elementwise min, NaN-propagating, the first operand on a tie (±0); ties split the gradient evenly")
            .elementwise(ElementwiseSpec.binary(MathFns::min).integer(Math::min).rows(FloatRows.Binary.MIN).cuda("k_minimum"))),
    GELU_BACKWARD(binary("gelu_backward", ShapeRules::binaryDiv, "g * gelu'(x) for gradient g at input x, gelu in its exact (erf) form:"
            + " g * (Phi(x) + x phi(x)); NaN at infinite x, as PyTorch's. gelu's gradient in one pass (the tanh form composes its own)")
            .elementwise(ElementwiseSpec.binary(MathFns::geluGrad).rows(FloatRows.Binary.GELU_GRAD)
                    .cuda(template("%a * (%T(0.5) * (%T(1) + k_erf(%b * %T(0.7071067811865476))) + %b * k_exp(%T(-0.5) * %b * %b) * %T(0.3989422804014327))")))),
    EQ(compare("eq", "a == b", (x, y) -> x == y, (x, y) -> x == y, FloatRows.Compare.EQ, "%a == %b")),
    NE(compare("ne", "a != b", (x, y) -> x != y, (x, y) -> x != y, FloatRows.Compare.NE, "%a != %b")),
    LT(compare("lt", "a < b", (x, y) -> x < y, (x, y) -> x < y, FloatRows.Compare.LT, "%a < %b")),
    LE(compare("le", "a <= b", (x, y) -> x <= y, (x, y) -> x <= y, FloatRows.Compare.LE, "%a <= %b")),
    GT(compare("gt", "a > b", (x, y) -> x > y, (x, y) -> x > y, FloatRows.Compare.GT, "%a > %b")),
    GE(compare("ge", "a >= b", (x, y) -> x >= y, (x, y) -> x >= y, FloatRows.Compare.GE, "%a >= %b")),
    LOGICAL_AND(compare("logical_and", "a and b, nonzero (NaN too) counting as true", (x, y) -> x != 0 && y != 0, (x, y) -> x != 0 && y != 0, null,
            "(%a != %T(0)) && (%b != %T(0))")),
    LOGICAL_OR(compare("logical_or", "a or b", (x, y) -> x != 0 || y != 0, (x, y) -> x != 0 || y != 0, null, "(%a != %T(0)) || (%b != %T(0))")),
    LOGICAL_XOR(compare("logical_xor", "a xor b", (x, y) -> (x != 0) != (y != 0), (x, y) -> (x != 0) != (y != 0), null, "(%a != %T(0)) != (%b != %T(0))")),
    WHERE(OpDef.builder("where", TERNARY).inputs(3).rule(ShapeRules::where)
            .doc("cond ? a : b, broadcasting all three; the gradient never mixes the branches")),

    // ---- reductions ----
    SUM(reduction("sum", ShapeRules::reduceSum, "sum over dims (all when empty); f32 sums are blocked and accumulated in f64")),
    PROD(reduction("prod", ShapeRules::reduceSum, "product over dims")),
    AMAX(reduction("amax", ShapeRules::reduceSame, "maximum over dims; NaN propagates; ties share the gradient evenly")),
    AMIN(reduction("amin", ShapeRules::reduceSame, "minimum over dims; NaN propagates; ties share the gradient evenly")),
    ALL(reduction("all", ShapeRules::reduceBool, "true when every element is nonzero").notDifferentiable()),
    ANY(reduction("any", ShapeRules::reduceBool, "true when some element is nonzero").notDifferentiable()),
    ARGMAX(OpDef.builder("argmax", REDUCTION).rule(ShapeRules::argReduce).notDifferentiable()
            .attrs(optionalInt("dim"), bool("keepdim", false))
            .doc("index of the first maximum along dim (over the flattened tensor when dim is absent); NaN counts as the maximum")),
    ARGMIN(OpDef.builder("argmin", REDUCTION).rule(ShapeRules::argReduce).notDifferentiable()
            .attrs(optionalInt("dim"), bool("keepdim", false))
            .doc("index of the first minimum along dim (over the flattened tensor when dim is absent); NaN counts as the minimum")),
    CUMSUM(OpDef.builder("cumsum", REDUCTION).rule(ShapeRules::cumsum).attrs(integer("dim"))
            .doc("inclusive prefix sum along dim")),
    SOFTMAX(OpDef.builder("softmax", REDUCTION).rule(ShapeRules::softmax).attrs(integer("dim"))
            .doc("exp(x - max) / sum(exp(x - max)) along dim")),
    LOG_SOFTMAX(OpDef.builder("log_softmax", REDUCTION).rule(ShapeRules::softmax).attrs(integer("dim"))
            .doc("x - max - log(sum(exp(x - max))) along dim")),
    SOFTMAX_BACKWARD(OpDef.builder("softmax_backward", REDUCTION).inputs(2).rule(ShapeRules::softmaxBackward).attrs(integer("dim"))
            .doc("softmax's gradient from its output: softmax_backward(g, y) = y * (g - sum(g * y)) along dim, for the gradient g"
                    + " at softmax's output y (PyTorch's _softmax_backward_data); one pass per row instead of four ops, differentiable"
                    + " again")),

    // ---- linear algebra ----
    MATMUL(OpDef.builder("matmul", LINALG).inputs(2).rule(ShapeRules::matmul)
            .doc("matrix product with NumPy semantics: 1-D operands are promoted and squeezed, batch dims broadcast")),
    ADDMM(OpDef.builder("addmm", LINALG).inputs(3).rule(ShapeRules::addmm)
            .doc("bias + a @ b for 2-D a and b, the bias broadcast to the product (the fused GEMM + bias)")),

    // ---- views (eager returns a view sharing storage) ----
    RESHAPE(view("reshape", ShapeRules::reshape, "same elements in a new shape; one dim may be -1; in traced graphs sizes may be symbolic"
            + " (B, T*H)").attrs(AttrSpec.shape("shape"))),
    PERMUTE(view("permute", ShapeRules::permute, "reorder dims").attrs(ints("dims"))),
    EXPAND(view("expand", ShapeRules::expand, "broadcast size-1 dims to a larger size without copying; -1 keeps a dim; in traced graphs"
            + " sizes may be symbolic").attrs(AttrSpec.shape("shape"))),
    EXPAND_AS(OpDef.builder("expand_as", VIEW).inputs(2).rule(ShapeRules::expandAs).view()
            .doc("broadcast the first input to the second input's shape (its data is not read); unlike expand, the target"
                    + " size comes from a value, so a symbolic batch stays symbolic in traced graphs")),
    SLICE(view("slice", ShapeRules::slice, "elements start, start+step, ... before end along dim (Python slice semantics, step > 0)")
            .attrs(integer("dim"), integer("start", 0), integer("end", Integer.MAX_VALUE), integer("step", 1))),
    SELECT(view("select", ShapeRules::select, "the slice at index along dim, removing dim").attrs(integer("dim"), integer("index"))),
    SQUEEZE(view("squeeze", ShapeRules::squeeze, "remove size-1 dims (all of them when dims is empty)").attrs(ints("dims", new int[0]))),
    UNSQUEEZE(view("unsqueeze", ShapeRules::unsqueeze, "insert a size-1 dim").attrs(integer("dim"))),
    FLATTEN(view("flatten", ShapeRules::flatten, "merge dims start..end into one").attrs(integer("start", 0), integer("end", -1))),
    UNFLATTEN(view("unflatten", ShapeRules::unflatten, "split dim into sizes (one may be -1, inferred); the other dims are kept as they are, so"
            + " a tensor with several symbolic dims splits one of them (attention's [B,T,C] -> [B,T,H,D]) and stays symbolic")
            .attrs(integer("dim"), ints("sizes"))),

    // ---- shape and index ----
    CAT(OpDef.builder("cat", SHAPE).inputs(1, Integer.MAX_VALUE).rule(ShapeRules::cat).attrs(integer("dim", 0))
            .doc("concatenate along dim; dtypes promote")),
    PAD(OpDef.builder("pad", SHAPE).rule(ShapeRules::pad)
            .attrs(ints("pads"), choice("mode", "constant", "constant", "reflect", "replicate"), real("value", 0.0))
            .doc("pad the last dims; pads = [last_lo, last_hi, prev_lo, prev_hi, ...] as torch.nn.functional.pad")),
    INDEX_SELECT(OpDef.builder("index_select", INDEX).inputs(2).rule(ShapeRules::indexSelect).attrs(integer("dim"))
            .doc("pick entries along dim by a 1-D i64 index (negative indices count from the end)")),
    GATHER(OpDef.builder("gather", INDEX).inputs(2).rule(ShapeRules::gather).attrs(integer("dim"))
            .doc("out[i][j] = x[index[i][j]][j] for dim 0, and likewise for other dims")),
    SCATTER_ADD(OpDef.builder("scatter_add", INDEX).inputs(3).rule(ShapeRules::scatterAdd).attrs(integer("dim"))
            .doc("copy of self with src added at index along dim (duplicates accumulate)")),
    TRIL(OpDef.builder("tril", SHAPE).rule(ShapeRules::triangle).attrs(integer("diagonal", 0))
            .doc("lower triangle of the last two dims, the rest zero")),
    TRIU(OpDef.builder("triu", SHAPE).rule(ShapeRules::triangle).attrs(integer("diagonal", 0))
            .doc("upper triangle of the last two dims, the rest zero")),
    FLIP(OpDef.builder("flip", SHAPE).rule(ShapeRules::flip).attrs(ints("dims"))
            .doc("reverse the order of elements along dims")),
    REPEAT(OpDef.builder("repeat", SHAPE).rule(ShapeRules::repeat).attrs(ints("repeats"))
            .doc("tile the tensor repeats[i] times along dim i (torch.Tensor.repeat)")),
    ARGSORT(OpDef.builder("argsort", INDEX).rule(ShapeRules::argsort).notDifferentiable()
            .attrs(integer("dim", -1), bool("descending", false))
            .doc("indices that sort along dim; stable; NaN sorts as the largest value")),
    TOPK_INDICES(OpDef.builder("topk_indices", INDEX).rule(ShapeRules::topkIndices).notDifferentiable()
            .attrs(integer("k"), integer("dim", -1), bool("largest", true))
            .doc("indices of the k largest (or smallest) entries along dim, in sorted order; ties keep the lower index first")),
    ONE_HOT(OpDef.builder("one_hot", INDEX).rule(ShapeRules::oneHot).notDifferentiable()
            .attrs(integer("num_classes").range(1, Integer.MAX_VALUE))
            .doc("i64 one-hot encoding in a new last dim; every index must be in [0, num_classes)")),
    SIZE(OpDef.builder("size", SHAPE).rule(ShapeRules::size).notDifferentiable().attrs(ints("dims", new int[0]))
            .doc("the number of elements spanned by dims (all dims when empty) as a 0-d i64, read from the shape at run time:"
                    + " mean and var divide by it, so a graph traced with a symbolic batch stays correct for every batch")),

    // ---- neural-network primitives (shape rules in NnShapeRules) ----
    CONV2D(OpDef.builder("conv2d", NN).inputs(2, 3).rule(NnShapeRules::conv2d)
            .attrs(ints("stride", new int[] {1, 1}).range(1, Integer.MAX_VALUE), ints("padding", new int[] {0, 0}).range(0, Integer.MAX_VALUE),
                    ints("dilation", new int[] {1, 1}).range(1, Integer.MAX_VALUE), integer("groups", 1).range(1, Integer.MAX_VALUE))
            .doc("2-D cross-correlation of x [N,C,H,W] with w [O,C/groups,kh,kw] plus optional bias [O] (im2col + GEMM; direct accumulation for float32 with few taps per output, stride 1, no dilation)")),
    CONV_TRANSPOSE2D(OpDef.builder("conv_transpose2d", NN).inputs(2, 3).rule(NnShapeRules::convTranspose2d)
            .attrs(ints("stride", new int[] {1, 1}).range(1, Integer.MAX_VALUE), ints("padding", new int[] {0, 0}).range(0, Integer.MAX_VALUE),
                    ints("output_padding", new int[] {0, 0}).range(0, Integer.MAX_VALUE), ints("dilation", new int[] {1, 1}).range(1, Integer.MAX_VALUE),
                    integer("groups", 1).range(1, Integer.MAX_VALUE))
            .doc("transposed convolution (the input gradient of conv2d) of x [N,Cin,H,W] with w [Cin,Cout/groups,kh,kw] plus optional bias [Cout]")),
    CONV2D_WEIGHT_GRAD(OpDef.builder("conv2d_weight_grad", NN).inputs(2).rule(NnShapeRules::conv2dWeightGrad)
            .attrs(ints("kernel_size").range(1, Integer.MAX_VALUE), ints("stride", new int[] {1, 1}).range(1, Integer.MAX_VALUE),
                    ints("padding", new int[] {0, 0}).range(0, Integer.MAX_VALUE), ints("dilation", new int[] {1, 1}).range(1, Integer.MAX_VALUE),
                    integer("groups", 1).range(1, Integer.MAX_VALUE))
            .doc("the weight gradient of conv2d: from input x [N,C,H,W] and output gradient g [N,O,Ho,Wo] to [O,C/groups,kh,kw]")),
    MAX_POOL2D_INDICES(OpDef.builder("max_pool2d_indices", NN).rule(NnShapeRules::maxPool2dIndices).notDifferentiable()
            .attrs(ints("kernel_size").range(1, Integer.MAX_VALUE), ints("stride").range(1, Integer.MAX_VALUE),
                    ints("padding", new int[] {0, 0}).range(0, Integer.MAX_VALUE), ints("dilation", new int[] {1, 1}).range(1, Integer.MAX_VALUE),
                    bool("ceil_mode", false))
            .doc("i64 [N,C,Ho,Wo] index (h*W + w within its plane) of each pooling window's maximum; NaN counts as the maximum")),
    SCALED_DOT_PRODUCT_ATTENTION(OpDef.builder("scaled_dot_product_attention", NN).inputs(3, 4).rule(AttentionShapeRules::attention)
            .attrs(bool("causal", false), optionalReal("scale"))
            .doc("softmax(q @ k^T * scale + mask) @ v over q [..., L, E], k [..., S, E], v [..., S, Ev] (PyTorch 2's"
                    + " scaled_dot_product_attention without dropout): scale defaults to 1/sqrt(E); a bool mask keeps the scores where it is"
                    + " true, a float mask is added; causal keeps key j <= query i; a row with no key left is 0 (PyTorch 2.5 on; a NaN score's row is NaN). Fused: the scores are"
                    + " computed in tiles with an online softmax, never as an L x S matrix")),
    SCALED_DOT_PRODUCT_ATTENTION_GRAD(OpDef.builder("scaled_dot_product_attention_grad", NN).inputs(5, 6).rule(AttentionShapeRules::attentionGrad)
            .notDifferentiable().attrs(choice("wrt", "q", "q", "k", "v"), bool("causal", false), optionalReal("scale"))
            .doc("the gradient of scaled_dot_product_attention(q, k, v[, mask]) with respect to q, k or v (wrt), from q, k, v, its output,"
                    + " the output's gradient and the mask; recomputes the attention in tiles, so memory stays O(L + S) per head")),
    SCALED_DOT_PRODUCT_ATTENTION_BACKWARD(OpDef.builder("scaled_dot_product_attention_backward", NN).inputs(4, 5).rule(AttentionShapeRules::attentionBackward)
            .notDifferentiable().attrs(bool("causal", false), optionalReal("scale"))
            .doc("the gradients of a self-attention scaled_dot_product_attention(q, k, v[, mask]) with respect to q, k and v, stacked"
                    + " [3, ...], from q, k, v (of one shape), the output's gradient and the mask, in one pass: per head and block of"
                    + " queries the score rows are recomputed in cache (up to 8192 keys; beyond, the tiled passes), their softmax P,"
                    + " dS = P * (dP - rowsum(P * dP)) with dP = dO v^T, then dv += P^T dO, dk += dS^T q, dq = dS k")),
    LAYER_NORM(OpDef.builder("layer_norm", NN).inputs(1, 3).rule(NormShapeRules::layerNorm)
            .attrs(integer("dims", 1).range(1, Integer.MAX_VALUE), real("eps", 1e-5))
            .doc("(x - mean) / sqrt(var + eps) * weight + bias over each row of x's last dims elements (biased variance from the"
                    + " centered row; float32 rows summed in float lanes, as PyTorch's, float64 in double); weight and bias optional (in that order), of the normalized shape. A few vector"
                    + " passes over each row in cache instead of the composite's dozen full-size ops")),
    LAYER_NORM_GRAD(OpDef.builder("layer_norm_grad", NN).inputs(2, 3).rule(NormShapeRules::layerNormGrad).notDifferentiable()
            .attrs(choice("wrt", "x", "x", "weight"), integer("dims", 1).range(1, Integer.MAX_VALUE), real("eps", 1e-5))
            .doc("the gradient of layer_norm(x[, weight, ...]) from its output gradient g: layer_norm_grad(x, g[, weight]) with respect"
                    + " to x (wrt), recomputing each row's statistics, or to the weight (the sum over rows of g * normalized x). The bias's"
                    + " gradient is a plain sum")),
    MAX_POOL2D(OpDef.builder("max_pool2d", NN).rule(NnShapeRules::maxPool2d).notDifferentiable()
            .attrs(ints("kernel_size").range(1, Integer.MAX_VALUE), ints("stride").range(1, Integer.MAX_VALUE),
                    ints("padding", new int[] {0, 0}).range(0, Integer.MAX_VALUE), ints("dilation", new int[] {1, 1}).range(1, Integer.MAX_VALUE),
                    bool("ceil_mode", false))
            .doc("the maximum of each pooling window [N,C,Ho,Wo] (NaN counts as the maximum), for inference: one kernel instead of"
                    + " max_pool2d_indices + gather, which F.maxPool2d uses when a gradient is needed")),
    // ---- structured control flow: nodes with subgraphs (bodies); graph-opt types and runs them (ControlFlowTypes, ControlFlowSemantics) ----
    COND(OpDef.builder("cond", CONTROL).inputs(1, Integer.MAX_VALUE).rule(OpDef::typedByBodies).notDifferentiable()
            .doc("cond(pred, operands...): runs body 0 (then) when the 0-d pred is nonzero, else body 1 (else), each on all operands;"
                    + " its outputs are the branch's, of the same types in both branches. Eagerly (ControlFlow.cond) only the taken branch runs,"
                    + " and gradients flow through it")),
    WHILE_LOOP(OpDef.builder("while_loop", CONTROL).inputs(1, Integer.MAX_VALUE).rule(OpDef::typedByBodies).notDifferentiable()
            .attrs(integer("captures", 0).range(0, Integer.MAX_VALUE))
            .doc("while_loop(carries..., captures...): while body 0 (cond, on carries and captures, a 0-d result) is nonzero, body 1"
                    + " maps carries and captures to new carries of the same types; outputs the final carries. Eagerly a Java loop")),
    SCAN(OpDef.builder("scan", CONTROL).inputs(1, Integer.MAX_VALUE).rule(OpDef::typedByBodies).notDifferentiable()
            .attrs(integer("carries").range(0, Integer.MAX_VALUE), integer("captures", 0).range(0, Integer.MAX_VALUE),
                    integer("dim", 0).range(0, Integer.MAX_VALUE), bool("reverse", false))
            .doc("scan(carries..., xs..., captures...): for t over dim of the xs (last to first when reverse), body 0 maps"
                    + " (carries, the xs' slices at t, captures) to (new carries, ys); outputs the final carries and each y stacked along"
                    + " dim. The length is the xs' size along dim, symbolic in a traced graph (an RNN over any sequence length)")),
    RAND_LIKE(OpDef.builder("rand_like", CREATION).rule(NnShapeRules::randLike).notDifferentiable()
            .attrs(ints("seed"), ints("offset"))
            .doc("uniform [0,1) values shaped like x (float dtype kept, else f32); element i is a pure function of (seed, offset + i), "
                    + "both 64-bit values given as [high, low] 32-bit words"));

    private final OpDef def;

    Op(OpDef.Builder b) { this.def = b.build(); }

    public OpDef def() { return def; }

    /** The op's name in JSON, printouts and errors. */
    public String opName() { return def.name(); }

    private static final Map<String, Op> BY_NAME = new HashMap<>();

    static {
        for (Op op : values()) {
            if (BY_NAME.put(op.def.name(), op) != null) throw new ExceptionInInitializerError("duplicate op name " + op.def.name());
        }
    }

    /** Looks up an op by its name, or null when there is none. */
    public static Op byName(String name) { return BY_NAME.get(name); }

    private static OpDef.Builder unary(String name, ShapeRule rule, String doc) {
        return OpDef.builder(name, UNARY).inputs(1).rule(rule).doc(doc);
    }

    private static OpDef.Builder binary(String name, ShapeRule rule, String doc) {
        return OpDef.builder(name, BINARY).inputs(2).rule(rule).doc(doc);
    }

    /** A test on doubles and one on longs (for i64 and bool operands), so each operand type compares exactly. */
    private interface DoubleTest { boolean test(double a, double b); }

    private interface LongTest { boolean test(long a, long b); }

    private static OpDef.Builder compare(String name, String doc, DoubleTest d, LongTest l, FloatRows.Compare rows, String cuda) {
        ElementwiseSpec.Builder spec = ElementwiseSpec.predicate((x, y) -> d.test(x, y) ? 1 : 0).integer((x, y) -> l.test(x, y) ? 1 : 0)
                .cuda(template(cuda));
        if (rows != null) spec.rows(rows);
        return OpDef.builder(name, BINARY).inputs(2).rule(ShapeRules::binaryBool).notDifferentiable().doc(doc + " (bool result)").elementwise(spec);
    }

    private static boolean tanhGelu(Attrs a) { return a.getString("approximate").equals("tanh"); }

    private static double lower(Attrs a) {
        Double v = a.getOptionalFloat("min");
        return v == null ? Double.NEGATIVE_INFINITY : v;
    }

    /** An integer clamp's bound: the nearest integer inside the real bound; a NaN bound is ignored. */
    private static long longBound(double v, boolean lower) {
        if (Double.isNaN(v)) return lower ? Long.MIN_VALUE : Long.MAX_VALUE;
        return (long) (lower ? Math.ceil(v) : Math.floor(v));
    }

    private static double upper(Attrs a) {
        Double v = a.getOptionalFloat("max");
        return v == null ? Double.POSITIVE_INFINITY : v;
    }

    private static OpDef.Builder reduction(String name, ShapeRule rule, String doc) {
        return OpDef.builder(name, REDUCTION).rule(rule).attrs(ints("dims", new int[0]), bool("keepdim", false)).doc(doc);
    }

    private static OpDef.Builder view(String name, ShapeRule rule, String doc) {
        return OpDef.builder(name, VIEW).rule(rule).view().doc(doc);
    }
}
