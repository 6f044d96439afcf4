package dev.kiln.serve;

/** A request the server refuses: the HTTP status and the one-line message of its {@code {"error": ...}} body. */
final class ApiException extends RuntimeException {
    final int status;

    ApiException(int status, String message) {
        super(message);
        this.status = status;
    }
}
