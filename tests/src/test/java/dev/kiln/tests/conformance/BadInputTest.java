package dev.kiln.tests.conformance;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.eager.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad inputs fail with a clear error: not an ArrayIndexOutOfBounds or NullPointer from deep in
 * a kernel, and a message naming the op and the offending shapes or values.
 */
class BadInputTest {

    private static Tensor f(int... shape) { return Tensor.zeros(shape); }

    private static Tensor i64(long... v) { return Tensor.of(v, v.length); }

    /** The call must throw a RuntimeException that is not an indexing or null bug, and say each of {@code words}. */
    private static DynamicTest bad(String name, Executable call, String... words) {
        return DynamicTest.dynamicTest(name, () -> {
            RuntimeException e = assertThrows(RuntimeException.class, call);
            assertTrue(!(e instanceof IndexOutOfBoundsException) && !(e instanceof NullPointerException) && !(e instanceof ClassCastException),
                    () -> "internal error type " + e);
            String m = String.valueOf(e.getMessage());
            for (String w : words) assertTrue(m.contains(w), () -> "message '" + m + "' does not mention '" + w + "'");
        });
    }

    @TestFactory
    Stream<DynamicTest> badInputs() {
        return Stream.of(
                bad("add: shapes do not broadcast", () -> f(2, 3).add(f(4)), "add", "[2,3]", "[4]"),
                bad("where: shapes do not broadcast", () -> Tensor.where(Tensor.ones(2, 3).gt(0.0), f(2, 3), f(3, 2)), "where", "[2,3]", "[3,2]"),
                bad("matmul: misaligned", () -> f(3, 4).matmul(f(5, 6)), "matmul", "[3,4]", "[5,6]", "4 != 5"),
                bad("matmul: 1-D misaligned", () -> f(3).matmul(f(4)), "matmul", "[3]", "[4]"),
                bad("matmul: 0-d operand", () -> Tensor.scalar(1).matmul(f(3)), "matmul"),
                bad("matmul: batch dims do not broadcast", () -> f(2, 3, 4).matmul(f(3, 4, 5)), "matmul", "[2]", "[3]"),
                bad("matmul: dtypes differ", () -> f(2, 2).matmul(Tensor.zeros(dev.kiln.backend.DType.FLOAT64, 2, 2)), "matmul", "f32", "f64"),
                bad("addmm: bias does not broadcast", () -> Tensor.addmm(f(4), f(3, 2), f(2, 5)), "addmm", "[4]"),
                bad("reshape: incompatible size", () -> f(2, 3).reshape(4, 2), "reshape", "[4, 2]", "[2,3]"),
                bad("reshape: two -1", () -> f(2, 3).reshape(-1, -1), "reshape", "-1"),
                bad("view: non-contiguous", () -> f(2, 3).transpose(0, 1).view(6), "view"),
                bad("sum: dim out of range", () -> f(2, 3).sum(2), "sum", "2"),
                bad("softmax: dim out of range", () -> f(2, 3).softmax(-3), "softmax", "-3"),
                bad("transpose: dim out of range", () -> f(2, 3).transpose(0, 2), "transpose", "2"),
                bad("select: index out of range", () -> f(2, 3).select(1, 3), "select", "3"),
                bad("squeeze: dim out of range", () -> f(2, 3).squeeze(5), "squeeze", "5"),
                bad("permute: wrong count", () -> f(2, 3).permute(0), "permute"),
                bad("expand: non-1 dim", () -> f(2, 3).expand(4, 3), "expand", "[4, 3]"),
                bad("cat: sizes differ", () -> Tensor.cat(0, f(2, 3), f(2, 4)), "cat", "[2,3]", "[2,4]"),
                bad("stack: shapes differ", () -> Tensor.stack(0, f(2, 3), f(3, 2)), "stack", "[2,3]", "[3,2]"),
                bad("split: sizes do not sum", () -> f(5, 2).split(new int[] {2, 2}, 0), "split", "[2, 2]"),
                bad("unflatten: sizes do not multiply", () -> f(2, 6).unflatten(1, 4, 2), "unflatten"),
                bad("in-place add_ cannot broadcast self", () -> f(3).add_(f(2, 3)), "add_", "[3]", "[2,3]"),
                bad("in-place mul_ cannot broadcast self", () -> f(1, 3).mul_(f(2, 3)), "mul_", "[1,3]", "[2,3]"),
                bad("index_select: float index", () -> f(3, 2).indexSelect(0, f(2)), "index_select", "i64"),
                bad("index_select: index out of range", () -> f(3, 2).indexSelect(0, i64(0, 3)), "index_select", "3"),
                bad("gather: index out of range", () -> f(2, 3).gather(1, Tensor.of(new long[] {0, 5}, 2, 1)), "gather", "5"),
                bad("gather: rank differs", () -> f(2, 3).gather(1, i64(0, 1)), "gather"),
                bad("scatter_add: src dtype differs", () -> f(2, 3).scatterAdd(0, Tensor.of(new long[] {0, 1, 0}, 1, 3), Tensor.zeros(dev.kiln.backend.DType.FLOAT64, 1, 3)), "scatter_add"),
                bad("one_hot: class out of range", () -> i64(0, 3).oneHot(3), "one_hot", "3"),
                bad("one_hot: float input", () -> f(3).oneHot(3), "one_hot", "i64"),
                bad("where: float condition", () -> Tensor.where(f(2), f(2), f(2)), "where", "bool"),
                bad("sub: bool operands", () -> Tensor.of(new boolean[] {true}, 1).sub(Tensor.of(new boolean[] {false}, 1)), "sub", "bool"),
                bad("neg: bool operand", () -> Tensor.of(new boolean[] {true}, 1).neg(), "neg", "bool"),
                bad("softmax: integer input", () -> i64(1, 2).softmax(0), "softmax", "i64"),
                bad("mean: integer input", () -> i64(1, 2).mean(), "mean", "i64"),
                bad("pow: integer to a negative power", () -> i64(2, 3).pow(i64(-1, 2)), "pow", "-1"),
                bad("amax: empty reduction", () -> f(0, 3).amax(new int[] {0}, false), "amax", "size 0"),
                bad("argmax: empty tensor", () -> f(0).argmax(), "argmax"),
                bad("pad: reflect wider than the input", () -> f(2, 3).pad(new int[] {3, 0}, "reflect", 0), "pad", "3"),
                bad("pad: odd pads", () -> f(2, 3).pad(1, 2, 3), "pad"),
                bad("topk: k too large", () -> f(2, 3).topk(4, -1, true), "topk", "4"),
                bad("repeat: too few repeats", () -> f(2, 3).repeat(2), "repeat"),
                bad("tril: 1-D input", () -> f(3).tril(), "tril", "[3]"),
                bad("slice: step 0", () -> f(3).slice(0, 0, 3, 0), "slice", "step"),
                bad("Tensor.of: values do not fill the shape", () -> Tensor.of(new float[] {1, 2, 3}, 2, 2), "Tensor.of", "[2, 2]"),
                bad("backward of a non-scalar without a gradient", () -> f(2).requiresGrad(true).mul(2.0).backward(), "backward", "[2]"),
                bad("requiresGrad on an integer tensor", () -> i64(1).requiresGrad(true), "requiresGrad", "i64"));
    }
}
