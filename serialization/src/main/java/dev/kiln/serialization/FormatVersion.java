package dev.kiln.serialization;

/**
 * The format's version, {@code major.minor}. A minor bump adds optional fields or new forms of a
 * value (1.1: symbolic sizes in SHAPE attributes) and changes no meaning, so a reader accepts any
 * older-or-equal minor and ignores unknown fields of a newer minor (a new value form it cannot
 * parse is an error naming the field); a major bump changes meaning, so a reader refuses a newer
 * major rather than misread it.
 */
public record FormatVersion(int major, int minor) {
    public static final String FORMAT_NAME = "kiln-graph";
    /** 1.1: symbolic sizes in SHAPE attributes; 1.2: named outputs; 1.3: control-flow nodes: several outputs and nested bodies. */
    public static final FormatVersion CURRENT = new FormatVersion(1, 3);
    /** The newest version of the op vocabulary (names, attrs, semantics) this reader knows; {@link Opsets} says which op came when. */
    public static final int OPSET = 5;
    /** The first version with control-flow nodes ({@code types}, {@code bodies}, {@code node:ID.K}) and opset checks per node. */
    static final FormatVersion CONTROL_FLOW = new FormatVersion(1, 3);

    static FormatVersion parse(Json field) {
        String s = field.string();
        if (!s.matches("(0|[1-9][0-9]{0,5})\\.(0|[1-9][0-9]{0,5})")) throw field.error("'" + s + "' is not a version of the form major.minor");
        int dot = s.indexOf('.');
        return new FormatVersion(Integer.parseInt(s.substring(0, dot)), Integer.parseInt(s.substring(dot + 1)));
    }

    /** Fails when this reader cannot read {@code this}; true when unknown fields must be tolerated. */
    boolean checkReadable(Json field) {
        if (major > CURRENT.major) {
            throw field.error("file format version " + this + " is newer than this reader's " + CURRENT
                    + " (a new major version changes meaning; upgrade Kiln to read it)");
        }
        if (major < 1) throw field.error("file format version " + this + " was never released");
        return major == CURRENT.major && minor > CURRENT.minor;
    }

    /** Whether this version is {@code other} or later. */
    boolean atLeast(FormatVersion other) { return major != other.major ? major > other.major : minor >= other.minor; }

    @Override
    public String toString() { return major + "." + minor; }
}
