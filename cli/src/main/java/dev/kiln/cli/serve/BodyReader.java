package dev.kiln.cli.serve;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads a request body up to a limit. A declared Content-Length over the limit is refused before
 * anything is read; a chunked or understated body is refused as soon as it passes the limit, so
 * the buffer never grows beyond the limit.
 */
final class BodyReader {
    private BodyReader() {}

    static byte[] read(HttpExchange ex, long limit) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            long n;
            try {
                n = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw new ApiException(400, "malformed Content-Length '" + declared + "'");
            }
            if (n > limit) throw tooLarge(limit);
        }
        InputStream in = ex.getRequestBody();
        byte[] buf = new byte[(int) Math.min(limit, 8192)];
        int len = 0;
        while (true) {
            if (len == buf.length) {
                if (len >= limit) {
                    // Full at the limit: one more byte means the body is too large.
                    if (in.read() >= 0) throw tooLarge(limit);
                    return buf;
                }
                buf = Arrays.copyOf(buf, (int) Math.min(limit, 2L * buf.length));
            }
            int r = in.read(buf, len, buf.length - len);
            if (r < 0) return Arrays.copyOf(buf, len);
            len += r;
        }
    }

    private static ApiException tooLarge(long limit) {
        return new ApiException(413, "request body exceeds the limit of " + limit + " bytes (--max-body-bytes)");
    }
}
