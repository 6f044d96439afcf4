package dev.kiln.eager.data;

import java.io.IOException;

/** An IDX file is malformed: truncated, corrupt, or declaring impossible sizes. The message names the file. */
public final class IdxFormatException extends IOException {
    public IdxFormatException(String message) { super(message); }
}
