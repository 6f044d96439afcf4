package dev.kiln.serialization;

/**
 * Upper bounds a loader enforces before it allocates anything, so a hostile file cannot make
 * it run out of memory or stack. The defaults fit real models on one machine; a deployment
 * that loads small models from strangers can lower them.
 *
 * @param maxDocumentBytes size of the JSON document (and of an .npy header)
 * @param maxNestingDepth  JSON nesting depth of one graph (the format itself needs 6); each level of
 *                         body nesting adds 4 ({@link #jsonDepth})
 * @param maxStringLength  one JSON string, which bounds one embedded base64 tensor
 * @param maxNumberLength  digits of one JSON number
 * @param maxRank          dims of one tensor type
 * @param maxTensorBytes   bytes of one parameter, constant or array
 * @param maxTotalBytes    bytes of all weights of one artifact together
 * @param maxNodes         nodes of one artifact, the bodies' nodes included
 * @param maxBodyDepth     how deep control-flow bodies may nest (a scan in a scan body is 2)
 */
public record LoadLimits(long maxDocumentBytes, int maxNestingDepth, int maxStringLength, int maxNumberLength,
                         int maxRank, long maxTensorBytes, long maxTotalBytes, int maxNodes, int maxBodyDepth) {

    /** The default nesting of bodies: far more than real models need (an RNN in a loop is 2), little stack. */
    public static final int DEFAULT_MAX_BODY_DEPTH = 32;

    /** JSON levels one body adds under its node: the bodies array, the body, its nodes array, a node in it. */
    static final int JSON_LEVELS_PER_BODY = 4;

    /** The limits as before bodies existed (format 1.2), with the default body nesting. */
    public LoadLimits(long maxDocumentBytes, int maxNestingDepth, int maxStringLength, int maxNumberLength,
                      int maxRank, long maxTensorBytes, long maxTotalBytes, int maxNodes) {
        this(maxDocumentBytes, maxNestingDepth, maxStringLength, maxNumberLength, maxRank, maxTensorBytes, maxTotalBytes, maxNodes,
                DEFAULT_MAX_BODY_DEPTH);
    }

    /** Appended to a limit's error: where the default limits come from, and the way out. */
    static final String HEAP_HINT = " (the default limits follow the JVM's heap, see docs/format.md; a larger -Xmx raises them)";

    /** The limits for this JVM's heap ({@link #forHeap} of {@code Runtime.maxMemory()}). */
    public static LoadLimits defaults() { return forHeap(Runtime.getRuntime().maxMemory()); }

    /**
     * Limits a heap of {@code heapBytes} can honour, so a file within them cannot exhaust it: the
     * document at most 1/8 of the heap (its bytes, the parsed tree and a base64 string's decoded
     * copy together stay under half), one string 1/8 (in chars), one tensor 1/4, all weights 1/2;
     * each capped by the format's own bounds (1 GiB document, 2^31 bytes per array, 16 GiB in
     * all). docs/format.md states the rule.
     */
    public static LoadLimits forHeap(long heapBytes) {
        long h = Math.max(heapBytes, 64L << 20);
        return new LoadLimits(Math.min(1L << 30, h / 8), 64, (int) Math.min((1 << 30) - 1, h / 8), 64, 32,
                Math.min((long) Integer.MAX_VALUE - 16, h / 4), Math.min(1L << 34, h / 2), 10_000_000, DEFAULT_MAX_BODY_DEPTH);
    }

    /**
     * The JSON nesting the parser allows for an artifact (192 by default): a graph's own depth plus
     * 4 levels per level of body nesting. A graph needs 6 of its 64, so a body one level too deep
     * still parses and the reader, not the parser, refuses it naming its JSON path.
     * {@link #maxNestingDepth} alone keeps its meaning for the other formats (an ONNX subgraph, a pickle).
     */
    public int jsonDepth() { return (int) Math.min(Integer.MAX_VALUE, maxNestingDepth + (long) JSON_LEVELS_PER_BODY * maxBodyDepth); }

    public LoadLimits withMaxTensorBytes(long n) {
        return new LoadLimits(maxDocumentBytes, maxNestingDepth, maxStringLength, maxNumberLength, maxRank, n, maxTotalBytes, maxNodes, maxBodyDepth);
    }

    public LoadLimits withMaxDocumentBytes(long n) {
        return new LoadLimits(n, maxNestingDepth, maxStringLength, maxNumberLength, maxRank, maxTensorBytes, maxTotalBytes, maxNodes, maxBodyDepth);
    }

    public LoadLimits withMaxBodyDepth(int n) {
        return new LoadLimits(maxDocumentBytes, maxNestingDepth, maxStringLength, maxNumberLength, maxRank, maxTensorBytes, maxTotalBytes, maxNodes, n);
    }
}
