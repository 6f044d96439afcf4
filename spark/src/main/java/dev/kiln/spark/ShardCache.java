package dev.kiln.spark;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A worker's rows as Java arrays, kept by the executor JVM between the rounds of one training run:
 * reading them out of Spark rows (boxed numbers) costs more than many steps, and every round
 * would otherwise do it again. Only the newest run's shards are kept.
 */
final class ShardCache {
    private ShardCache() {}

    /** One worker's rows in index order: features flattened, labels. */
    record Shard(float[] features, long[] labels) {}

    private static final ConcurrentHashMap<String, Shard> SHARDS = new ConcurrentHashMap<>();
    private static volatile String run;

    static Shard get(String runId, int worker) { return SHARDS.get(runId + ":" + worker); }

    static void put(String runId, int worker, Shard s) {
        if (!runId.equals(run)) {
            synchronized (ShardCache.class) {
                if (!runId.equals(run)) {
                    SHARDS.keySet().removeIf(k -> !k.startsWith(runId + ":"));
                    run = runId;
                }
            }
        }
        SHARDS.put(runId + ":" + worker, s);
    }
}
