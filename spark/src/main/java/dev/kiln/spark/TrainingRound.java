package dev.kiln.spark;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.optim.Optimizer;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import scala.Tuple2;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * One round of data-parallel training as a barrier task: this worker's shard in, its replica
 * restored from the round's state, steps {@code from} to {@code to} with gradients all-reduced,
 * and (worker 0 only) the new state out.
 */
final class TrainingRound extends AbstractFunction1<Iterator<Tuple2<Long, Row>>, Iterator<TrainingRound.Outcome>> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What a worker hands back: worker 0 the state and the round's losses and costs, the others nothing. */
    record Outcome(int worker, byte[] state, float[] losses, double ms, double exchangeMs, long bytesPerStep) implements Serializable {}

    private final DataParallelTrainer spec;
    private final Broadcast<byte[]> state;
    private final int from, to;
    private final long rows;

    TrainingRound(DataParallelTrainer spec, Broadcast<byte[]> state, int from, int to, long rows) {
        this.spec = spec;
        this.state = state;
        this.from = from;
        this.to = to;
        this.rows = rows;
    }

    @Override
    public Iterator<Outcome> apply(Iterator<Tuple2<Long, Row>> input) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int w = ctx.partitionId(), n = ctx.getTaskInfos().length;
        if (n != spec.workers) throw new IllegalStateException("the barrier stage has " + n + " tasks, the trainer " + spec.workers + " workers");
        List<Tuple2<Long, Row>> shard = new ArrayList<>();
        CollectionConverters.asJava(input).forEachRemaining(shard::add);
        shard.sort(Comparator.comparing(Tuple2::_1));
        if (shard.size() != Shards.shardSize(rows, w, n)) {
            throw new IllegalStateException("worker " + w + " got " + shard.size() + " rows, expected " + Shards.shardSize(rows, w, n));
        }
        int d = 1;
        for (int s : spec.featureShape) d = Math.multiplyExact(d, s);
        float[] features = new float[Math.multiplyExact(shard.size(), d)];
        long[] labels = new long[shard.size()];
        for (int i = 0; i < shard.size(); i++) {
            Row r = shard.get(i)._2();
            RowArrays.read(r, 0, r.schema() == null ? "features" : r.schema().fieldNames()[0], d, features, i * d);
            if (r.isNullAt(1)) throw new IllegalArgumentException("a row has no label");
            labels[i] = ((Number) r.get(1)).longValue();
        }

        Module model = spec.model.create();
        Optimizer opt = spec.optimizer.create(model.parameters());
        int restored = TrainingState.restore(state.value(), model, opt);
        if (restored != from) throw new IllegalStateException("the round starts at step " + from + " but its state is of step " + restored);
        List<Tensor> params = model.parameters();
        int total = 1;
        for (Tensor p : params) total += p.data().numel();
        float[] losses = new float[to - from];
        long[] sent = {0};
        double exchangeNs = 0;
        long t0 = System.nanoTime();
        int per = spec.rowsPerWorker;
        int[] xShape = new int[spec.featureShape.length + 1];
        xShape[0] = per;
        System.arraycopy(spec.featureShape, 0, xShape, 1, spec.featureShape.length);
        for (int step = from; step < to; step++) {
            if (spec.hook != null) spec.hook.beforeStep(step, w);
            int[] pos = Shards.localBatch(shard.size(), per, spec.seed, w, step);
            float[] xb = new float[per * d];
            long[] yb = new long[per];
            for (int j = 0; j < per; j++) {
                System.arraycopy(features, pos[j] * d, xb, j * d, d);
                yb[j] = labels[pos[j]];
            }
            opt.zeroGrad();
            Tensor loss = spec.loss.loss(model.call(Tensor.of(xb, xShape)), Tensor.of(yb, per));
            loss.backward();
            float[] mine = new float[total];
            mine[0] = (float) loss.item();
            int k = 1;
            for (Tensor p : params) {
                if (p.grad() != null) System.arraycopy(p.grad().contiguous().toFloatArray(), 0, mine, k, p.data().numel());
                k += p.data().numel();
            }
            long e0 = System.nanoTime();
            float[] sum = GradientExchange.allReduce(ctx, mine, sent);
            exchangeNs += System.nanoTime() - e0;
            // the global loss is the workers' mean of their means: its gradient is the mean of theirs
            float inv = 1f / n;
            k = 1;
            for (Tensor p : params) {
                int m = p.data().numel();
                float[] g = new float[m];
                for (int i = 0; i < m; i++) g[i] = sum[k + i] * inv;
                p.setGrad(Tensor.of(g, p.data().shape()));
                k += m;
            }
            opt.step();
            losses[step - from] = sum[0] * inv;
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        int steps = Math.max(1, to - from);
        Outcome out = w == 0
                ? new Outcome(0, TrainingState.save(model, opt, to), losses, ms, exchangeNs / 1e6, sent[0] / steps)
                : new Outcome(w, null, losses, ms, exchangeNs / 1e6, sent[0] / steps);
        return CollectionConverters.asScala(List.of(out).iterator());
    }
}
