package dev.kiln.spark;

import dev.kiln.graph.opt.OptLevel;
import dev.kiln.runtime.Model;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.LoadLimits;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models of one executor JVM, compiled once and shared by its task threads ({@link Model}
 * is thread-safe). Keyed by the artifact's SHA-256, so a job that ships the same artifact to
 * every task loads it once per executor however many tasks and stages use it.
 */
final class ModelCache {
    private ModelCache() {}

    private static final ConcurrentHashMap<String, Model> MODELS = new ConcurrentHashMap<>();

    /** The compiled model of this artifact (embedded weights), loading it on first use in this JVM. */
    static Model get(byte[] artifact) {
        // computeIfAbsent: concurrent first calls for one key wait for a single load
        return MODELS.computeIfAbsent(sha256(artifact), k -> Model.of(KilnReader.fromJson(artifact, LoadLimits.defaults()).graph(), OptLevel.O2));
    }

    /** How many distinct models this JVM holds (tests check the once-per-JVM load). */
    static int size() { return MODELS.size(); }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
