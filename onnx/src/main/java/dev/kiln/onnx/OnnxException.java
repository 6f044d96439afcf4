package dev.kiln.onnx;

/** A Kiln graph that cannot be written as ONNX, or an ONNX model Kiln cannot import; the message names the node. */
public class OnnxException extends RuntimeException {
    public OnnxException(String message) { super(dev.kiln.graph.Printable.escape(message)); }

    public OnnxException(String message, Throwable cause) { super(dev.kiln.graph.Printable.escape(message), cause); }
}
