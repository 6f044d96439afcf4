package dev.kiln.serialization;

/**
 * Upper bounds a loader enforces before it allocates anything, so a hostile file cannot make
 * it run out of memory or stack. The defaults fit real models on one machine; a deployment
 * that loads small models from strangers can lower them.
 *
 * @param maxDocumentBytes size of the JSON document (and of an .npy header)
 * @param maxNestingDepth  JSON nesting depth (the format itself needs 5)
 * @param maxStringLength  one JSON string, which bounds one embedded base64 tensor
 * @param maxNumberLength  digits of one JSON number
 * @param maxRank          dims of one tensor type
 * @param maxTensorBytes   bytes of one parameter, constant or array
 * @param maxTotalBytes    bytes of all weights of one artifact together
 * @param maxNodes         nodes of one graph
 */
public record LoadLimits(long maxDocumentBytes, int maxNestingDepth, int maxStringLength, int maxNumberLength,
                         int maxRank, long maxTensorBytes, long maxTotalBytes, int maxNodes) {

    public static LoadLimits defaults() {
        return new LoadLimits(1L << 30, 64, (1 << 30) - 1, 64, 32, (long) Integer.MAX_VALUE - 16, 1L << 34, 10_000_000);
    }

    public LoadLimits withMaxTensorBytes(long n) {
        return new LoadLimits(maxDocumentBytes, maxNestingDepth, maxStringLength, maxNumberLength, maxRank, n, maxTotalBytes, maxNodes);
    }

    public LoadLimits withMaxDocumentBytes(long n) {
        return new LoadLimits(n, maxNestingDepth, maxStringLength, maxNumberLength, maxRank, maxTensorBytes, maxTotalBytes, maxNodes);
    }
}
