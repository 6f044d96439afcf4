package dev.kiln.serve;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One request, read whole and within the limits by the transport, and its one answer. The API
 * runs on a worker thread; {@link #respond} hands the answer back to the transport, which writes
 * it on the connection's event loop.
 */
final class HttpCall {
    final String method, rawPath, rawQuery, uri;
    final byte[] body;
    /** The client's address, for the access log. */
    String remote = "";
    /** When the complete request was handed over (System.nanoTime). */
    final long startNanos = System.nanoTime();
    /** The model and version that answered (null: none), for the access log. */
    volatile String model, version;
    private final HttpHeaders requestHeaders;
    private final Map<String, String> responseHeaders = new LinkedHashMap<>();
    /** Hands the answer to the transport; set by the transport before the call runs. */
    Consumer<FullHttpResponse> writer;
    private boolean responded;
    private final MemoryBudget budget;
    /** Bytes this request holds in the budget; the transport frees them once the answer is written. */
    long reserved;

    HttpCall(String method, String uri, HttpHeaders headers, byte[] body, MemoryBudget budget, long reserved, Consumer<FullHttpResponse> writer) {
        this.budget = budget;
        this.reserved = reserved;
        this.method = method;
        this.uri = uri;
        int q = uri.indexOf('?');
        this.rawPath = q < 0 ? uri : uri.substring(0, q);
        this.rawQuery = q < 0 ? null : uri.substring(q + 1);
        this.requestHeaders = headers;
        this.body = body;
        this.writer = writer;
    }

    /** Reserves more of the memory budget for this request (its outputs, once their size is known). */
    void reserve(long bytes, String what) {
        budget.reserveMore(bytes, what);
        reserved += bytes;
    }

    /** A request header (case-insensitive), or null. */
    String header(String name) { return requestHeaders.get(name); }

    void setResponseHeader(String name, String value) { responseHeaders.put(name, value); }

    boolean responded() { return responded; }

    private int status;

    /** The status sent (0 before). */
    int status() { return status; }

    /** Sends the answer; a second call is ignored (the first one won). */
    void respond(int status, String contentType, byte[] content) {
        if (responded) return;
        responded = true;
        this.status = status;
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(content));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.length);
        responseHeaders.forEach((k, v) -> r.headers().set(k, v));
        writer.accept(r);
    }
}
