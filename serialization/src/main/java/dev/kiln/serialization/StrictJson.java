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

    static ObjectMapper mapper(LoadLimits limits) {
        StreamReadConstraints c = StreamReadConstraints.builder()
                .maxNestingDepth(limits.maxNestingDepth())
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
    static JsonNode parse(byte[] doc, LoadLimits limits, String what) {
        if (doc.length > limits.maxDocumentBytes()) {
            throw KilnFormatException.at(what, "document of " + doc.length + " bytes exceeds the limit of " + limits.maxDocumentBytes()
                    + LoadLimits.HEAP_HINT);
        }
        try {
            JsonNode n = mapper(limits).readTree(doc);
            if (n == null || n.isMissingNode()) throw KilnFormatException.at(what, "empty document");
            return n;
        } catch (StreamConstraintsException e) {
            throw KilnFormatException.at(what, "JSON exceeds a safety limit: " + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw KilnFormatException.at(what, "malformed JSON: " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "(no detail)";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
