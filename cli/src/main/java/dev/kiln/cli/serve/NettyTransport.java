package dev.kiln.cli.serve;

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
    private static final AttributeKey<long[]> RESERVED = AttributeKey.valueOf("kiln.reserved");
    /** Per-request memory beyond the body: headers, the decoded tensors' bookkeeping. */
    static final long FIXED_COST = 64 << 10;
    /** The body, its decoded tensors and the copies a batch makes, at most this many times the body's bytes. */
    static final int BODY_FACTOR = 3;

    private final EventLoopGroup boss, workers;
    private final Channel server;
    private final AtomicInteger connections = new AtomicInteger();

    interface Handler {
        void handle(HttpCall call);
    }

    NettyTransport(ServeOptions o, MemoryBudget budget, Executor executor, Handler api) throws InterruptedException, java.net.BindException {
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
                        p.addLast(new Gate(o.maxBodyBytes(), budget));
                        p.addLast(new BodyAggregator(o.maxBodyBytes()));
                        p.addLast(new Dispatch(executor, api, budget));
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
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(Responses.errorBody(message)));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, Responses.JSON);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        r.headers().set(HttpHeaderNames.CONNECTION, "close");
        if (retry) r.headers().set("Retry-After", "1");
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

        private void disarm() {
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
            if (msg instanceof FullHttpResponse) promise.addListener(f -> {
                if (ctx.channel().isActive()) arm(ctx); // the next request's clock starts with this answer
            });
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
            ReferenceCountUtil.release(req);
            refuse(ctx, status, message, retry, waitsForContinue || bodyless);
        }

        Gate(long maxBody, MemoryBudget budget) {
            this.maxBody = maxBody;
            this.budget = budget;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (discarding) { // the rest of a refused request, read and dropped; then the connection closes
                boolean last = msg instanceof LastHttpContent;
                ReferenceCountUtil.release(msg);
                if (last) ctx.close();
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
                if (declared >= 0 && FIXED_COST + BODY_FACTOR * declared > budget.capacity()) {
                    refuseAndDrain(ctx, req, 413, "a body of " + declared + " bytes needs about " + (FIXED_COST + BODY_FACTOR * declared)
                            + " bytes in memory, more than this server's budget of " + budget.capacity() + " (a third of the heap; a larger -Xmx raises it)", false);
                    return;
                }
                // the whole body's share is reserved before any of it is read: requests that are
                // admitted can finish (a reservation per chunk let concurrent uploads starve each
                // other half-way). A client that declares a large body and sends nothing holds its
                // share until the read timeout; large requests may use only part of the budget, so
                // such clients cannot starve small requests.
                if (!hold(ctx, FIXED_COST + (long) BODY_FACTOR * (declared >= 0 ? declared : maxBody), msg)) return;
            }
            ctx.fireChannelRead(msg);
        }
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

    /** A complete request: to a worker, and its answer back to the connection. */
    static final class Dispatch extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Executor executor;
        private final Handler api;
        private final MemoryBudget budget;

        Dispatch(Executor executor, Handler api, MemoryBudget budget) {
            this.executor = executor;
            this.api = api;
            this.budget = budget;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            long[] held = ctx.channel().attr(RESERVED).getAndSet(null);
            long reserved = held == null ? 0 : held[0];
            byte[] body = ByteBufUtil.getBytes(req.content());
            Consumer<FullHttpResponse> writer = r -> {
                if (!keepAlive) r.headers().set(HttpHeaderNames.CONNECTION, "close");
                ctx.writeAndFlush(r).addListener(keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
            };
            HttpCall call = new HttpCall(req.method().name(), req.uri(), req.headers().copy(), body, budget, reserved, r -> {
                writer.accept(r);
            });
            Runnable work = () -> {
                try {
                    api.handle(call);
                } finally {
                    budget.release(call.reserved);
                }
            };
            try {
                executor.execute(work);
            } catch (RejectedExecutionException e) {
                budget.release(reserved);
                refuse(ctx, 503, "the server is overloaded or shutting down; retry later", true);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset or a protocol error: nothing to answer
        }
    }
}
