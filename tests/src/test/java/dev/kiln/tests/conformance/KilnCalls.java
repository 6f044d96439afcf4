package dev.kiln.tests.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.backend.DType;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.ValuesIndices;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;

/**
 * The fixture method names mapped to Kiln calls. A name missing here makes its cases fail
 * (not skip): a fixture nobody can run is a conformance gap.
 */
final class KilnCalls {
    private KilnCalls() {}

    /** A Kiln call: the (viewed) inputs and the case's args to a Tensor, Tensor list or ValuesIndices. */
    interface Call {
        Object apply(Tensor[] in, JsonNode args);
    }

    static final Map<String, Call> CALLS = new HashMap<>();

    static Call get(String method) { return CALLS.get(method); }

    /** Outputs in a fixed order: one tensor, a list's tensors, or (values, indices). */
    static Tensor[] outputs(Object r) {
        if (r instanceof Tensor t) return new Tensor[] {t};
        if (r instanceof ValuesIndices vi) return new Tensor[] {vi.values(), vi.indices()};
        if (r instanceof List<?> l) return l.toArray(new Tensor[0]);
        throw new IllegalStateException("unexpected result " + r);
    }

    private static void unary(String name, UnaryOperator<Tensor> f) { CALLS.put(name, (in, a) -> f.apply(in[0])); }

    /** Tensor-tensor form, plus the Java-number form when args has "scalar". */
    private static void binary(String name, BiFunction<Tensor, Tensor, Tensor> f, ScalarForm s) {
        CALLS.put(name, (in, a) -> {
            if (!a.has("scalar")) return f.apply(in[0], in[1]);
            if (s == null) throw new IllegalArgumentException(name + " has no Java-number form in Kiln");
            JsonNode v = a.get("scalar");
            return s.apply(in[0], v.isIntegralNumber() ? (Number) v.asLong() : (Number) v.asDouble());
        });
    }

    /** A Java long selects the integer overload (an int64 scalar), a double the floating one. */
    interface ScalarForm {
        Tensor apply(Tensor x, Number v);
    }

    private static int[] dims(JsonNode a) { return a.has("dims") ? Fixtures.ints(a.get("dims")) : new int[0]; }

    private static boolean keep(JsonNode a) { return a.path("keepdim").asBoolean(false); }

    private static Double optional(JsonNode a, String k) { return a.hasNonNull(k) ? Fixtures.number(a.get(k)) : null; }

    static {
        unary("neg", Tensor::neg);
        unary("abs", Tensor::abs);
        unary("sign", Tensor::sign);
        unary("exp", Tensor::exp);
        unary("log", Tensor::log);
        unary("log1p", Tensor::log1p);
        unary("expm1", Tensor::expm1);
        unary("sqrt", Tensor::sqrt);
        unary("rsqrt", Tensor::rsqrt);
        unary("reciprocal", Tensor::reciprocal);
        unary("sin", Tensor::sin);
        unary("cos", Tensor::cos);
        unary("tanh", Tensor::tanh);
        unary("sigmoid", Tensor::sigmoid);
        unary("relu", Tensor::relu);
        unary("silu", Tensor::silu);
        unary("erf", Tensor::erf);
        unary("floor", Tensor::floor);
        unary("ceil", Tensor::ceil);
        unary("round", Tensor::round);
        unary("square", Tensor::square);
        unary("logicalNot", Tensor::logicalNot);
        unary("isnan", Tensor::isnan);
        unary("isfinite", Tensor::isfinite);
        unary("clone", Tensor::clone);
        CALLS.put("gelu", (in, a) -> in[0].gelu(a.get("approximate").asText()));
        CALLS.put("clamp", (in, a) -> in[0].clamp(optional(a, "min"), optional(a, "max")));
        CALLS.put("to", (in, a) -> in[0].to(DType.fromShortName(a.get("dtype").asText())));

        binary("add", Tensor::add, (x, v) -> v instanceof Long l ? x.add((long) l) : x.add(v.doubleValue()));
        binary("sub", Tensor::sub, (x, v) -> v instanceof Long l ? x.sub((long) l) : x.sub(v.doubleValue()));
        binary("mul", Tensor::mul, (x, v) -> v instanceof Long l ? x.mul((long) l) : x.mul(v.doubleValue()));
        binary("div", Tensor::div, (x, v) -> x.div(v.doubleValue()));
        binary("pow", Tensor::pow, (x, v) -> v instanceof Long l ? x.pow((long) l) : x.pow(v.doubleValue()));
        binary("maximum", Tensor::maximum, null);
        binary("minimum", Tensor::minimum, null);
        binary("geluBackward", Tensor::geluBackward, null);
        binary("eq", Tensor::eq, (x, v) -> x.eq(v.doubleValue()));
        binary("ne", Tensor::ne, (x, v) -> x.ne(v.doubleValue()));
        binary("lt", Tensor::lt, (x, v) -> x.lt(v.doubleValue()));
        binary("le", Tensor::le, (x, v) -> x.le(v.doubleValue()));
        binary("gt", Tensor::gt, (x, v) -> x.gt(v.doubleValue()));
        binary("ge", Tensor::ge, (x, v) -> x.ge(v.doubleValue()));
        binary("logicalAnd", Tensor::logicalAnd, null);
        binary("logicalOr", Tensor::logicalOr, null);
        binary("logicalXor", Tensor::logicalXor, null);
        CALLS.put("where", (in, a) -> Tensor.where(in[0], in[1], in[2]));
        CALLS.put("maskedFill", (in, a) -> in[0].maskedFill(in[1], Fixtures.number(a.get("value"))));

        CALLS.put("sum", (in, a) -> in[0].sum(dims(a), keep(a)));
        CALLS.put("prod", (in, a) -> in[0].prod(dims(a), keep(a)));
        CALLS.put("amax", (in, a) -> in[0].amax(dims(a), keep(a)));
        CALLS.put("amin", (in, a) -> in[0].amin(dims(a), keep(a)));
        CALLS.put("all", (in, a) -> in[0].all(dims(a), keep(a)));
        CALLS.put("any", (in, a) -> in[0].any(dims(a), keep(a)));
        CALLS.put("mean", (in, a) -> in[0].mean(dims(a), keep(a)));
        CALLS.put("logsumexp", (in, a) -> in[0].logsumexp(dims(a), keep(a)));
        CALLS.put("var", (in, a) -> in[0].var(dims(a), a.get("correction").asInt(), keep(a)));
        CALLS.put("std", (in, a) -> in[0].std(dims(a), a.get("correction").asInt(), keep(a)));
        CALLS.put("argmax", (in, a) -> argReduce(Op.ARGMAX, in[0], a));
        CALLS.put("argmin", (in, a) -> argReduce(Op.ARGMIN, in[0], a));
        CALLS.put("max", (in, a) -> a.has("dim") ? in[0].max(a.get("dim").asInt(), keep(a)) : in[0].max());
        CALLS.put("min", (in, a) -> a.has("dim") ? in[0].min(a.get("dim").asInt(), keep(a)) : in[0].min());
        CALLS.put("cumsum", (in, a) -> in[0].cumsum(a.get("dim").asInt()));
        CALLS.put("softmax", (in, a) -> in[0].softmax(a.get("dim").asInt()));
        CALLS.put("logSoftmax", (in, a) -> in[0].logSoftmax(a.get("dim").asInt()));
        CALLS.put("softmaxBackward", (in, a) -> Dispatcher.apply(Op.SOFTMAX_BACKWARD, Attrs.of("dim", a.get("dim").asInt()), in[0], in[1]));

        CALLS.put("matmul", (in, a) -> in[0].matmul(in[1]));
        CALLS.put("addmm", (in, a) -> Tensor.addmm(in[0], in[1], in[2]));

        CALLS.put("reshape", (in, a) -> in[0].reshape(Fixtures.ints(a.get("shape"))));
        CALLS.put("permute", (in, a) -> in[0].permute(Fixtures.ints(a.get("dims"))));
        CALLS.put("transpose", (in, a) -> in[0].transpose(a.get("d0").asInt(), a.get("d1").asInt()));
        CALLS.put("expand", (in, a) -> in[0].expand(Fixtures.ints(a.get("shape"))));
        CALLS.put("expandAs", (in, a) -> in[0].expandAs(in[1]));
        CALLS.put("slice", (in, a) -> in[0].slice(a.get("dim").asInt(), a.get("start").asInt(), a.get("end").asInt(), a.get("step").asInt()));
        CALLS.put("select", (in, a) -> in[0].select(a.get("dim").asInt(), a.get("index").asInt()));
        CALLS.put("squeeze", (in, a) -> a.has("dim") ? in[0].squeeze(a.get("dim").asInt()) : in[0].squeeze());
        CALLS.put("unsqueeze", (in, a) -> in[0].unsqueeze(a.get("dim").asInt()));
        CALLS.put("flatten", (in, a) -> in[0].flatten(a.get("start").asInt(), a.get("end").asInt()));
        CALLS.put("unflatten", (in, a) -> in[0].unflatten(a.get("dim").asInt(), Fixtures.ints(a.get("sizes"))));
        CALLS.put("cat", (in, a) -> Tensor.cat(a.get("dim").asInt(), in));
        CALLS.put("stack", (in, a) -> Tensor.stack(a.get("dim").asInt(), in));
        CALLS.put("split", (in, a) -> a.has("sizes") ? in[0].split(Fixtures.ints(a.get("sizes")), a.get("dim").asInt())
                : in[0].split(a.get("size").asInt(), a.get("dim").asInt()));
        CALLS.put("chunk", (in, a) -> in[0].chunk(a.get("chunks").asInt(), a.get("dim").asInt()));
        CALLS.put("pad", (in, a) -> in[0].pad(Fixtures.ints(a.get("pads")), a.get("mode").asText(), Fixtures.number(a.get("value"))));
        CALLS.put("tril", (in, a) -> in[0].tril(a.get("diagonal").asInt()));
        CALLS.put("triu", (in, a) -> in[0].triu(a.get("diagonal").asInt()));
        CALLS.put("flip", (in, a) -> in[0].flip(Fixtures.ints(a.get("dims"))));
        CALLS.put("repeat", (in, a) -> in[0].repeat(Fixtures.ints(a.get("repeats"))));
        CALLS.put("tile", (in, a) -> in[0].tile(Fixtures.ints(a.get("reps"))));

        CALLS.put("indexSelect", (in, a) -> in[0].indexSelect(a.get("dim").asInt(), in[1]));
        CALLS.put("gather", (in, a) -> in[0].gather(a.get("dim").asInt(), in[1]));
        CALLS.put("scatterAdd", (in, a) -> in[0].scatterAdd(a.get("dim").asInt(), in[1], in[2]));
        CALLS.put("sort", (in, a) -> in[0].sort(a.get("dim").asInt(), a.get("descending").asBoolean()));
        CALLS.put("argsort", (in, a) -> in[0].argsort(a.get("dim").asInt(), a.get("descending").asBoolean()));
        CALLS.put("topk", (in, a) -> in[0].topk(a.get("k").asInt(), a.get("dim").asInt(), a.get("largest").asBoolean()));
        CALLS.put("oneHot", (in, a) -> in[0].oneHot(a.get("num_classes").asInt()));
    }

    /** argmax/argmin: over one dim, or the flattened tensor (Tensor has no keepdim form for that). */
    private static Tensor argReduce(Op op, Tensor x, JsonNode a) {
        if (a.has("dim")) return Dispatcher.apply(op, Attrs.of("dim", a.get("dim").asInt(), "keepdim", keep(a)), x);
        return Dispatcher.apply(op, Attrs.of("keepdim", keep(a)), x);
    }
}
