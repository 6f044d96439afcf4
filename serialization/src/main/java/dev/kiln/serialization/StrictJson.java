package dev.kiln.serialization;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/**
 * Parses untrusted JSON into a plain tree: no default typing and no binding to classes named
 * by the file, bounded nesting, string, number and document sizes, duplicate keys and
 * trailing tokens rejected. Everything past this point walks the tree by hand.
 */
final class StrictJson {
    private StrictJson() {}

    static ObjectMapper mapper(LoadLimits limits, int depth) {
        StreamReadConstraints c = StreamReadConstraints.builder()
                .maxNestingDepth(depth)
                .maxStringLength(limits.maxStringLength())
                .maxNumberLength(limits.maxNumberLength())
                .maxNameLength(1024)
                .maxDocumentLength(limits.maxDocumentBytes())
                .build();
        JsonFactory f = JsonFactory.builder().streamReadConstraints(c)
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
        return JsonMapper.builder(f)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE)
                .build();
    }

    /** Parses a whole document; {@code what} names it in errors ("model.kiln.json"). */
    static JsonNode parse(byte[] doc, LoadLimits limits, String what) { return parse(doc, limits, what, limits.maxNestingDepth()); }

    /** Parses a document nesting at most {@code depth} levels (an artifact's bodies nest deeper than a header). */
    static JsonNode parse(byte[] doc, LoadLimits limits, String what, int depth) {
        if (doc.length > limits.maxDocumentBytes()) {
            throw KilnFormatException.at(what, "document of " + doc.length + " bytes exceeds the limit of " + limits.maxDocumentBytes()
                    + LoadLimits.HEAP_HINT);
        }
        int start = encodingStart(doc, what);
        try {
            JsonNode n = mapper(limits, depth).readTree(doc, start, doc.length - start);
            if (n == null || n.isMissingNode()) throw KilnFormatException.at(what, "empty document");
            return n;
        } catch (StreamConstraintsException e) {
            throw KilnFormatException.at(what, "JSON exceeds a safety limit: " + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw KilnFormatException.at(what, "malformed JSON: " + firstLine(e.getMessage()));
        }
    }

    /**
     * Where the JSON text starts: after a UTF-8 byte order mark, which is skipped (RFC 8259 lets a
     * parser ignore it, and Windows editors write it), else at 0. UTF-16 and UTF-32, which Jackson
     * would otherwise detect and read, are refused: an artifact is UTF-8, as RFC 8259 requires of
     * JSON exchanged between systems, so every reader of the format reads the same bytes.
     */
    static int encodingStart(byte[] doc, String what) {
        int n = doc.length;
        int b0 = n > 0 ? doc[0] & 0xff : -1, b1 = n > 1 ? doc[1] & 0xff : -1, b2 = n > 2 ? doc[2] & 0xff : -1, b3 = n > 3 ? doc[3] & 0xff : -1;
        if (b0 == 0xef && b1 == 0xbb && b2 == 0xbf) return 3;
        String other = null;
        if (b0 == 0 && b1 == 0 && b2 == 0xfe && b3 == 0xff || b0 == 0xff && b1 == 0xfe && b2 == 0 && b3 == 0) other = "UTF-32 (it starts with a UTF-32 byte order mark)";
        else if (b0 == 0xfe && b1 == 0xff || b0 == 0xff && b1 == 0xfe) other = "UTF-16 (it starts with a UTF-16 byte order mark)";
        else if (n >= 2 && (b0 == 0 || b1 == 0)) other = "UTF-16 or UTF-32 (a zero byte among its first two)";
        if (other != null) throw KilnFormatException.at(what, "the document is " + other + "; artifacts are UTF-8 (RFC 8259), with or without a UTF-8 byte order mark");
        return 0;
    }

    private static String firstLine(String s) {
        if (s == null) return "(no detail)";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
