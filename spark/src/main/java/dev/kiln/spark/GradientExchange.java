package dev.kiln.spark;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import org.apache.spark.BarrierTaskContext;

/**
 * The all-reduce of one step: every worker's values (its loss, then its gradients flattened, as
 * float32) go through {@link BarrierTaskContext#allGather}, which returns every worker's message
 * in partition order; each worker sums them in that order, so all replicas get the same bits and
 * apply the same update. allGather routes through the driver: simple and needs no ports, but
 * each step moves N x N messages of the model's size through one process (docs/spark.md has
 * the figures and the alternative).
 */
final class GradientExchange {
    private GradientExchange() {}

    /** The element-wise sum over all workers of {@code mine}; also counts the bytes sent. */
    static float[] allReduce(BarrierTaskContext ctx, float[] mine, long[] bytesSent) {
        ByteBuffer b = ByteBuffer.allocate(mine.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(mine);
        String message = Base64.getEncoder().encodeToString(b.array());
        bytesSent[0] += message.length();
        String[] all = ctx.allGather(message);
        float[] sum = new float[mine.length];
        for (String m : all) {
            ByteBuffer in = ByteBuffer.wrap(Base64.getDecoder().decode(m)).order(ByteOrder.LITTLE_ENDIAN);
            if (in.remaining() != mine.length * 4) {
                throw new IllegalStateException("a worker sent " + in.remaining() / 4 + " values, this one " + mine.length + ": the replicas differ");
            }
            for (int i = 0; i < sum.length; i++) sum[i] += in.getFloat();
        }
        return sum;
    }
}
