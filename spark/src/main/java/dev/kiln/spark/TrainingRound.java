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
    /** What a peer connection must present (PeerExchange): drawn by the driver per round. */
    private final long token;
    /** Names this training run in the executors' shard cache. */
    private final String runId;

    /** The feature and label columns, for messages about bad rows. */
    private final String[] columns;

    TrainingRound(DataParallelTrainer spec, String[] columns, Broadcast<byte[]> state, int from, int to, long rows, long token, String runId) {
        this.runId = runId;
        this.columns = columns.clone();
        this.spec = spec;
        this.state = state;
        this.from = from;
        this.to = to;
        this.rows = rows;
        this.token = token;
    }

    /** This worker's rows out of Spark rows (columns: features, label), in index order. */
    private ShardCache.Shard read(Iterator<Tuple2<Long, Row>> input, int w, int n, int d) {
        List<Tuple2<Long, Row>> rows = new ArrayList<>();
        CollectionConverters.asJava(input).forEachRemaining(rows::add);
        rows.sort(Comparator.comparing(Tuple2::_1));
        if (rows.size() != Shards.shardSize(this.rows, w, n)) {
            throw new IllegalStateException("worker " + w + " got " + rows.size() + " rows, expected " + Shards.shardSize(this.rows, w, n));
        }
        float[] features = new float[Math.multiplyExact(rows.size(), d)];
        long[] labels = new long[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i)._2();
            RowArrays.read(r, 0, columns[0], d, features, i * d);
            if (r.isNullAt(1)) throw new IllegalArgumentException("column '" + columns[1] + "' is null in a row");
            labels[i] = ((Number) r.get(1)).longValue();
        }
        return new ShardCache.Shard(features, labels);
    }

    @Override
    public Iterator<Outcome> apply(Iterator<Tuple2<Long, Row>> input) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int w = ctx.partitionId(), n = ctx.getTaskInfos().length;
        if (n != spec.workers) throw new IllegalStateException("the barrier stage has " + n + " tasks, the trainer " + spec.workers + " workers");
        int d = 1;
        for (int s : spec.featureShape) d = Math.multiplyExact(d, s);
        ShardCache.Shard shard = ShardCache.get(runId, w);
        if (shard == null) {
            shard = read(input, w, n, d);
            ShardCache.put(runId, w, shard);
        }
        float[] features = shard.features();
        long[] labels = shard.labels();
        int shardRows = labels.length;

        Module model = spec.model.create();
        Optimizer opt = spec.optimizer.create(model.parameters());
        int restored = TrainingState.restore(state.value(), model, opt);
        if (restored != from) throw new IllegalStateException("the round starts at step " + from + " but its state is of step " + restored);
        List<Tensor> params = model.parameters();
        // the exchanged vector: the loss, one flag per parameter (it has a gradient here), the gradients
        int total = 1 + params.size();
        for (Tensor p : params) total += p.data().numel();
        float[] losses = new float[to - from];
        double exchangeNs = 0;
        long sent;
        long t0;
        try (PeerExchange peers = PeerExchange.connect(ctx, token)) {
            // one exchange first: Spark's barrier call returns to each task up to a second apart
            // (it polls), so the workers start the timed steps together
            peers.allReduce(new float[1]);
            t0 = System.nanoTime();
            int per = spec.rowsPerWorker;
            int[] xShape = new int[spec.featureShape.length + 1];
            xShape[0] = per;
            System.arraycopy(spec.featureShape, 0, xShape, 1, spec.featureShape.length);
            Shards.Walker walk = new Shards.Walker(shardRows, per, spec.seed, w);
            for (int step = from; step < to; step++) {
                if (spec.hook != null) spec.hook.beforeStep(step, w);
                int[] pos = walk.batch(step);
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
                int k = 1 + params.size();
                for (int q = 0; q < params.size(); q++) {
                    Tensor p = params.get(q);
                    if (p.grad() != null) {
                        mine[1 + q] = 1;
                        System.arraycopy(p.grad().contiguous().toFloatArray(), 0, mine, k, p.data().numel());
                    }
                    k += p.data().numel();
                }
                long e0 = System.nanoTime();
                float[] sum = peers.allReduce(mine);
                exchangeNs += System.nanoTime() - e0;
                // the global loss is the workers' mean of their means: its gradient is the mean of theirs
                float inv = 1f / n;
                k = 1 + params.size();
                for (int q = 0; q < params.size(); q++) {
                    Tensor p = params.get(q);
                    int m = p.data().numel();
                    // a parameter no worker had a gradient for keeps none, as in one process: the
                    // optimizer skips it (no weight decay, no momentum step)
                    if (sum[1 + q] == 0) {
                        p.setGrad(null);
                    } else {
                        float[] g = new float[m];
                        for (int i = 0; i < m; i++) g[i] = sum[k + i] * inv;
                        p.setGrad(Tensor.of(g, p.data().shape()));
                    }
                    k += m;
                }
                opt.step();
                losses[step - from] = sum[0] * inv;
            }
            sent = peers.bytesSent;
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        int steps = Math.max(1, to - from);
        Outcome out = w == 0
                ? new Outcome(0, TrainingState.save(model, opt, to), losses, ms, exchangeNs / 1e6, sent / steps)
                : new Outcome(w, null, losses, ms, exchangeNs / 1e6, sent / steps);
        return CollectionConverters.asScala(List.of(out).iterator());
    }
}
