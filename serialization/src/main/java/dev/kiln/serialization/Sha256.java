package dev.kiln.serialization;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Lower-case hex SHA-256, the checksum of every stored tensor. */
final class Sha256 {
    private Sha256() {}

    static String hex(byte[] data) { return hex(data, 0, data.length); }

    static String hex(byte[] data, int from, int len) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, from, len);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
