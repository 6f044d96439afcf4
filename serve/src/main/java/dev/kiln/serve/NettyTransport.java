package dev.kiln.serve;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * kiln serve's HTTP stack on Netty. A connection costs a channel, not a thread, so hundreds of
 * idle or trickling connections (a slowloris flood) delay nobody; each connection must finish
 * sending its request within the read timeout of its previous answer (or of connecting), else
 * it is closed; the connection count is bounded; a body is aggregated only up to the limit, and
 * only after the request has reserved memory for it ({@link MemoryBudget}). Complete requests go
 * to the worker pool ({@link AdmissionExecutor}) and the answer is written back on the event loop.
 *
 * <p>Netty rather than the JDK's com.sun.net.httpserver (which gave a slowloris flood every
 * worker thread) or a full framework: it is TorchServe's choice, well kept, and gives exactly
 * these knobs in about a megabyte of jars.
 */
final class NettyTransport {
    private static final System.Logger LOG = System.getLogger("dev.kiln.serve");
    private static final AttributeKey<long[]> RESERVED = AttributeKey.valueOf("kiln.reserved");
    /** Per-request memory beyond the body: headers, the decoded tensors' bookkeeping. */
    static final long FIXED_COST = 64 << 10;
    /** An .npy body, its decoded tensor and the copies a batch makes: at most this many times the body's bytes. */
    static final int BODY_FACTOR = 3;
    /**
     * A JSON body: a number may take two characters ("0,") and decode to 8 bytes (f64, i64),
     * into a buffer that doubles (up to 16 bytes a number) and is then copied to size (8 more):
     * 24 bytes for 2 of body, 12x, plus the body itself.
     */
    static final int JSON_BODY_FACTOR = 13;
    /** What a chunked body reserves at its head; the reservation doubles as its chunks arrive. */
    static final long CHUNKED_START = 64 << 10;

    private final EventLoopGroup boss, workers;
    private final Channel server;
    private final AtomicInteger connections = new AtomicInteger();

    interface Handler {
        void handle(HttpCall call);
    }

    NettyTransport(ServeOptions o, MemoryBudget budget, Executor executor, Handler api, AccessLog log) throws InterruptedException, java.net.BindException {
        boss = new NioEventLoopGroup(1, DynamicBatcher.daemon("kiln-accept"));
        workers = new NioEventLoopGroup(Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())), DynamicBatcher.daemon("kiln-io"));
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (connections.incrementAndGet() > o.maxConnections()) {
                            connections.decrementAndGet();
                            ch.close(); // over the bound: refused at once, the cheapest answer
                            return;
                        }
                        ch.closeFuture().addListener(f -> {
                            connections.decrementAndGet();
                            long[] r = ch.attr(RESERVED).getAndSet(null);
                            if (r != null) budget.release(r[0]);
                        });
                        ChannelPipeline p = ch.pipeline();
                        p.addLast(new HttpServerCodec(8192, 16384, 65536));
                        p.addLast(new RequestDeadline(o.readTimeoutSeconds()));
                        p.addLast(new Gate(o.maxBodyBytes(), budget, log));
                        p.addLast(new BodyAggregator(o.maxBodyBytes()));
                        p.addLast(new Dispatch(executor, api, budget, log));
                    }
                });
        try {
            server = b.bind(o.host(), o.port()).sync().channel();
        } catch (Exception e) {
            shutdown();
            if (e instanceof java.net.BindException be) throw be;
            throw new java.net.BindException(e.getMessage());
        }
    }

    int port() { return ((InetSocketAddress) server.localAddress()).getPort(); }

    String host() { return ((InetSocketAddress) server.localAddress()).getHostString(); }

    int connections() { return connections.get(); }

    /** Stops accepting; open connections are closed. */
    void shutdown() {
        if (server != null) server.close().awaitUninterruptibly(2000);
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2000);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2000);
    }

    /** A JSON error answer written by the transport itself (before the API sees the request), then the connection closes. */
    static void refuse(ChannelHandlerContext ctx, int status, String message, boolean retry) { refuse(ctx, status, message, retry, true); }

    /**
     * As {@link #refuse(ChannelHandlerContext, int, String, boolean)}; with {@code close} false the
     * connection stays open so the client can finish sending the body it has started (its rest is
     * discarded, then the connection closes): a client that cannot finish writing never reads the
     * answer, it sees a broken pipe instead.
     */
    static void refuse(ChannelHandlerContext ctx, int status, String message, boolean retry, boolean close) {
        FullHttpResponse r = refusal(status, message, retry);
        Dispatch d = ctx.pipeline().get(Dispatch.class);
        if (d != null && d.busy()) { // an earlier request's answer comes first (HTTP/1.1 answers in order)
            d.deferRefusal(r, close);
            return;
        }
        writeRefusal(ctx, r, close);
    }

    static FullHttpResponse refusal(int status, String message, boolean retry) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(Responses.errorBody(message)));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, Responses.JSON);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        r.headers().set(HttpHeaderNames.CONNECTION, "close");
        if (retry) r.headers().set("Retry-After", "1");
        return r;
    }

    static void writeRefusal(ChannelHandlerContext ctx, FullHttpResponse r, boolean close) {
        ctx.writeAndFlush(r).addListener(close ? ChannelFutureListener.CLOSE : ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    /**
     * Closes a connection that has not finished sending a request within the read timeout of
     * connecting or of its previous answer: trickled headers, a promised body that never comes,
     * or an idle keep-alive connection.
     */
    static final class RequestDeadline extends ChannelDuplexHandler {
        private final long timeoutNanos;
        private ScheduledFuture<?> timer;

        RequestDeadline(int seconds) { this.timeoutNanos = TimeUnit.SECONDS.toNanos(seconds); }

        private void arm(ChannelHandlerContext ctx) {
            disarm();
            timer = ctx.executor().schedule(() -> {
                ctx.close();
            }, timeoutNanos, TimeUnit.NANOSECONDS);
        }

        void disarm() {
            if (timer != null) timer.cancel(false);
            timer = null;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            arm(ctx);
            super.channelActive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof LastHttpContent) disarm(); // the request is complete; the answer is the server's to give
            super.channelRead(ctx, msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof FullHttpResponse) {
                arm(ctx); // a client that does not read its answer is cut off like one that does not send
                promise.addListener(f -> {
                    if (ctx.channel().isActive()) arm(ctx); // the next request's clock starts with this answer
                });
            }
            super.write(ctx, msg, promise);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            disarm();
            super.channelInactive(ctx);
        }
    }

    /**
     * At a request's head: malformed requests, a declared body over the limit, and requests that
     * cannot reserve memory for their body are answered here, before any body byte is kept.
     */
    static final class Gate extends ChannelInboundHandlerAdapter {
        private final long maxBody;
        private final MemoryBudget budget;
        private final AccessLog log;
        /** For a chunked request: the bytes its reservation covers (-1 otherwise), how many came, and its memory factor. */
        private long chunkedAllowance = -1, chunkedSeen;
        private int chunkedFactor;
        private boolean discarding;

        static boolean hold(ChannelHandlerContext ctx, long bytes, Object msg) {
            Gate g = ctx.pipeline().get(Gate.class);
            try {
                g.budget.reserve(bytes, "this request");
            } catch (ApiException e) {
                g.refuseAndDrain(ctx, (HttpRequest) msg, e.status, e.getMessage(), e.status == 503);
                return false;
            }
            long[] held = ctx.channel().attr(RESERVED).get();
            if (held == null) ctx.channel().attr(RESERVED).set(new long[] {bytes});
            else held[0] += bytes;
            return true;
        }

        /**
         * Answers at the head and reads the rest of the request without keeping it: the client
         * gets to finish writing and reads the answer. A client waiting for 100-continue sends no
         * body, so its connection closes at once; a body that never ends meets the read timeout.
         */
        private void refuseAndDrain(ChannelHandlerContext ctx, HttpRequest req, int status, String message, boolean retry) {
            discarding = true;
            boolean waitsForContinue = HttpUtil.is100ContinueExpected(req);
            boolean bodyless = req instanceof io.netty.handler.codec.http.FullHttpRequest || HttpUtil.getContentLength(req, -1L) == 0;
            if (log != null) log.log(remote(ctx), req.method().name(), req.uri(), status, HttpUtil.getContentLength(req, 0L), 0, 0, null, null);
            ReferenceCountUtil.release(req);
            refuse(ctx, status, message, retry, waitsForContinue || bodyless);
        }

        Gate(long maxBody, MemoryBudget budget, AccessLog log) {
            this.maxBody = maxBody;
            this.budget = budget;
            this.log = log;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (discarding) { // the rest of a refused request, read and dropped; then the connection closes
                boolean last = msg instanceof LastHttpContent;
                ReferenceCountUtil.release(msg);
                Dispatch d = ctx.pipeline().get(Dispatch.class);
                // a refusal waiting behind an earlier answer closes the connection once it is written
                if (last && (d == null || !d.busy())) ctx.close();
                else if (last) d.refusedBodyDrained = true;
                return;
            }
            if (msg instanceof HttpRequest req) {
                if (req.decoderResult().isFailure()) {
                    discarding = true;
                    ReferenceCountUtil.release(msg);
                    Throwable c = req.decoderResult().cause();
                    boolean tooLong = c instanceof io.netty.handler.codec.TooLongFrameException;
                    refuse(ctx, tooLong ? 431 : 400, tooLong ? "the request line or headers are too long" : "malformed HTTP request: " + c.getMessage(), false);
                    return;
                }
                long declared = HttpUtil.getContentLength(req, -1L);
                if (declared > maxBody) {
                    refuseAndDrain(ctx, req, 413, "request body exceeds the limit of " + maxBody + " bytes (--max-body-bytes)", false);
                    return;
                }
                int factor = bodyFactor(req);
                if (declared >= 0 && FIXED_COST + factor * declared > budget.capacity()) {
                    refuseAndDrain(ctx, req, 413, "a body of " + declared + " bytes needs about " + (FIXED_COST + factor * declared)
                            + " bytes in memory, more than this server's budget of " + budget.capacity() + " (a third of the heap; a larger -Xmx raises it)", false);
                    return;
                }
                // the whole body's share is reserved before any of it is read: requests that are
                // admitted can finish (a reservation per chunk let concurrent uploads starve each
                // other half-way). A client that declares a large body and sends nothing holds its
                // share until the read timeout; large requests may use only part of the budget, so
                // such clients cannot starve small requests. A chunked body's size is unknown, so
                // it reserves for the largest; a request with neither header has no body.
                long body = declared >= 0 ? declared : 0;
                chunkedAllowance = -1;
                if (declared < 0 && HttpUtil.isTransferEncodingChunked(req)) {
                    // a chunked body's size is unknown: it reserves for a small body and grows its
                    // reservation as chunks arrive (503 when the budget is in use, 413 past the limit),
                    // so a stalled or small chunked upload holds little of the budget
                    body = Math.min(maxBody, CHUNKED_START);
                    chunkedAllowance = body;
                    chunkedSeen = 0;
                    chunkedFactor = factor;
                }
                if (!hold(ctx, FIXED_COST + factor * body, msg)) return;
                Dispatch d = ctx.pipeline().get(Dispatch.class);
                if (d != null && d.busy() && HttpUtil.is100ContinueExpected(req)) {
                    // the aggregator would answer "100 Continue" now, ahead of the answer in flight, and the
                    // client would take it as that request's; without it the client sends its body after a pause
                    HttpUtil.set100ContinueExpected(req, false);
                }
            } else if (chunkedAllowance >= 0 && msg instanceof io.netty.handler.codec.http.HttpContent c) {
                chunkedSeen += c.content().readableBytes();
                while (chunkedSeen > chunkedAllowance) {
                    String refusal = null;
                    int status = 413;
                    if (chunkedAllowance >= maxBody) {
                        refusal = "request body exceeds the limit of " + maxBody + " bytes (--max-body-bytes)";
                    } else {
                        long grow = Math.min(maxBody, Math.max(2 * chunkedAllowance, chunkedSeen)) - chunkedAllowance;
                        long[] now = ctx.channel().attr(RESERVED).get();
                        long total = (now == null ? 0 : now[0]) + chunkedFactor * grow;
                        if (total > budget.capacity()) { // this request alone could never hold it
                            refusal = "this chunked body of " + chunkedSeen + " bytes so far needs about " + total + " bytes in memory, more than this"
                                    + " server's budget of " + budget.capacity() + " (a third of the heap; a larger -Xmx raises it)";
                        } else try {
                            budget.reserveGrowth(chunkedFactor * grow, total, "this chunked request");
                            long[] held = ctx.channel().attr(RESERVED).get();
                            if (held == null) ctx.channel().attr(RESERVED).set(new long[] {chunkedFactor * grow});
                            else held[0] += chunkedFactor * grow;
                            chunkedAllowance += grow;
                        } catch (ApiException e) {
                            refusal = e.getMessage();
                            status = e.status;
                        }
                    }
                    if (refusal != null) { // its body is drained (not kept), then the connection closes
                        discarding = true;
                        long[] held = ctx.channel().attr(RESERVED).getAndSet(null); // nothing of it is kept from here on
                        if (held != null) budget.release(held[0]);
                        boolean last = msg instanceof LastHttpContent;
                        ReferenceCountUtil.release(msg);
                        refuse(ctx, status, refusal, status == 503, last);
                        return;
                    }
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** How many times its body's bytes a request may need in memory, by its Content-Type. */
    static int bodyFactor(HttpRequest req) {
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith(Responses.NPY) ? BODY_FACTOR : JSON_BODY_FACTOR;
    }

    /** The client's address as the access log shows it. */
    static String remote(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() + ":" + a.getPort() : String.valueOf(ctx.channel().remoteAddress());
    }

    /** Reserves {@code bytes} for the connection's current request, or refuses it (503, or 413 when it can never fit). */
    private static boolean hold(ChannelHandlerContext ctx, long bytes, Object msg) {
        return Gate.hold(ctx, bytes, msg);
    }

    /** HttpObjectAggregator with Kiln's JSON 413 for a body that passes the limit while streaming in. */
    static final class BodyAggregator extends HttpObjectAggregator {
        private final long limit;

        BodyAggregator(long limit) {
            super((int) Math.min(limit, Integer.MAX_VALUE - 8), true);
            this.limit = limit;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            refuse(ctx, 413, "request body exceeds the limit of " + limit + " bytes (--max-body-bytes)", false);
        }
    }

    /**
     * A complete request: to a worker, and its answer back to the connection. A connection has
     * one request in flight: HTTP/1.1 answers in request order, so pipelined requests wait here
     * (reading stops meanwhile) and the next starts once the answer is written. The request's
     * memory is released when its answer has left, not when it was computed.
     */
    static final class Dispatch extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Executor executor;
        private final Handler api;
        private final MemoryBudget budget;
        private final AccessLog log;
        private final java.util.ArrayDeque<Pending> waiting = new java.util.ArrayDeque<>();
        private boolean inFlight;
        /** The body of a refused pipelined request has been read to its end (the Gate drained it while an answer was pending). */
        boolean refusedBodyDrained;

        /**
         * A pipelined request read while another was in flight, with the memory its head
         * reserved; or a refusal of one (refusal set), written when its turn comes.
         */
        private record Pending(FullHttpRequest req, long reserved, FullHttpResponse refusal, boolean close) {}

        boolean busy() { return inFlight; }

        /** Answers a pipelined request that the transport refused, after the answers before it. */
        void deferRefusal(FullHttpResponse r, boolean close) { waiting.add(new Pending(null, 0, r, close)); }

        Dispatch(Executor executor, Handler api, MemoryBudget budget, AccessLog log) {
            super(false); // requests are released when they are done with, possibly after waiting
            this.executor = executor;
            this.api = api;
            this.budget = budget;
            this.log = log;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            long[] held = ctx.channel().attr(RESERVED).getAndSet(null);
            Pending p = new Pending(req, held == null ? 0 : held[0], null, false);
            if (inFlight) {
                waiting.add(p);
                ctx.channel().config().setAutoRead(false); // at most what one read decoded waits here
                return;
            }
            start(ctx, p);
        }

        private void start(ChannelHandlerContext ctx, Pending p) {
            inFlight = true;
            if (p.refusal() != null) {
                // the refused request is not in flight: the Gate drains the rest of its body and
                // closes at its end (or the refusal closes at once when there is no body to drain)
                inFlight = false;
                boolean close = p.close() || refusedBodyDrained;
                writeRefusal(ctx, p.refusal(), close);
                if (!close) {
                    ctx.channel().config().setAutoRead(true);
                    ctx.read();
                }
                return;
            }
            FullHttpRequest req = p.req();
            long reserved = p.reserved();
            if (req.decoderResult().isFailure()) { // a malformed chunk or trailer after a well-formed head
                req.release();
                budget.release(reserved);
                writeRefusal(ctx, refusal(400, "malformed HTTP request: " + req.decoderResult().cause().getMessage(), false), true);
                return;
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            byte[] body;
            HttpCall call;
            try {
                body = ByteBufUtil.getBytes(req.content());
                call = new HttpCall(req.method().name(), req.uri(), req.headers().copy(), body, budget, reserved, null);
                call.remote = remote(ctx);
            } finally {
                req.release();
            }
            call.writer = r -> {
                if (log != null) { // on the worker's thread, never the event loop's
                    log.log(call.remote, call.method, call.uri, r.status().code(), call.body.length, r.content().readableBytes(), System.nanoTime() - call.startNanos,
                            call.model, call.version);
                }
                ctx.executor().execute(() -> write(ctx, call, r, keepAlive));
            };
            Runnable work = () -> {
                try {
                    api.handle(call);
                } catch (Throwable t) { // a bug, not the client's: answered, and the connection lives on
                    LOG.log(System.Logger.Level.ERROR, call.method + " " + call.rawPath + " failed", t);
                } finally {
                    if (!call.responded()) call.respond(500, Responses.JSON, Responses.errorBody("internal error while handling this request; see the server's log"));
                }
            };
            try {
                executor.execute(work);
            } catch (RejectedExecutionException e) {
                budget.release(reserved);
                writeRefusal(ctx, refusal(503, "the server is overloaded or shutting down; retry later", true), true);
            }
        }

        private void write(ChannelHandlerContext ctx, HttpCall call, FullHttpResponse r, boolean keepAlive) {
            if (!keepAlive) r.headers().set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(r).addListener(f -> {
                budget.release(call.reserved);
                if (!f.isSuccess() || !keepAlive) {
                    ctx.close();
                    return;
                }
                next(ctx);
            });
        }

        /** The answer is written: the next pipelined request, or reading again. */
        private void next(ChannelHandlerContext ctx) {
            inFlight = false;
            Pending p = waiting.poll();
            if (p != null) {
                RequestDeadline d = ctx.pipeline().get(RequestDeadline.class);
                if (d != null) d.disarm(); // this request was read in full already
                start(ctx, p);
                return;
            }
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            for (Pending p; (p = waiting.poll()) != null; ) {
                if (p.req() != null) p.req().release();
                if (p.refusal() != null) p.refusal().release();
                budget.release(p.reserved());
            }
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset or a protocol error: nothing to answer
        }
    }
}
