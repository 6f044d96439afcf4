package dev.kiln.serialization.torch;

import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.LoadLimits;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle machine that understands what a state dict needs and nothing else, in the spirit of
 * {@code torch.load(weights_only=True)}: primitives, lists, tuples, dicts, sets, OrderedDict,
 * tensors rebuilt from storages (torch._utils._rebuild_tensor_v2, _rebuild_parameter) and
 * bytes. A GLOBAL naming anything else fails at once with its name; no class is instantiated
 * and no function is called, so a hostile pickle cannot run code. Opcodes that build arbitrary
 * objects (INST, OBJ, NEWOBJ, EXT) are refused.
 *
 * <p>Values come out as Java values: dict as LinkedHashMap, list and tuple as List, int as
 * Long (BigInteger beyond 64 bits), float as Double, str as String, bytes as byte[], bool,
 * null, and every tensor as a contiguous {@link Strided}.
 */
final class WeightsOnlyUnpickler {
    /** Reads a storage by key (the persistent id of torch.save's data/&lt;key&gt; entries). */
    interface StorageSource {
        StorageRef load(String key, TorchStorageType type, long numel);

        /** Counts bytes a view's copy will take against the per-tensor and total limits (before it is made). */
        void chargeCopy(long bytes, String what);
    }

    /** A storage read from the archive: its Kiln data and the element count the pickle declared. */
    record StorageRef(TorchStorageType type, String key, dev.kiln.backend.Storage storage, int numel) {}

    /** A global the allow-list let through: a callable or class the machine can apply itself. */
    private record Global(String module, String name) {
        @Override
        public String toString() { return module + "." + name; }
    }

    private static final Set<String> CALLABLES = Set.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch.Size", "builtins.set", "builtins.frozenset",
            "__builtin__.set", "__builtin__.frozenset", "_codecs.encode");

    private static final Object MARK = new Object() {
        @Override
        public String toString() { return "MARK"; }
    };

    private final byte[] p;
    private final String what;
    private final LoadLimits limits;
    private final StorageSource storages;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int pos;
    private int opAt;
    /**
     * Values pushed, memoized or added to containers, all counted: one opcode byte can hold ~50
     * bytes of heap (a memo entry), and a compressed pickle is 1000x smaller than its size, so
     * the count, not the pickle's length, is what bounds memory.
     */
    private long held;
    private final long budget;

    private WeightsOnlyUnpickler(byte[] pickle, String what, LoadLimits limits, StorageSource storages) {
        this.p = pickle;
        this.what = what;
        this.limits = limits;
        this.storages = storages;
        this.budget = Math.max(1 << 16, limits.maxDocumentBytes() / 16);
    }

    private void hold(long n) {
        held += n;
        if (held > budget) throw error("the pickle builds more than " + budget + " values (a limit derived from LoadLimits.maxDocumentBytes)");
    }

    /** The object the pickle describes; {@code what} names the pickle (the archive entry) in errors. */
    static Object load(byte[] pickle, String what, LoadLimits limits, StorageSource storages) {
        return new WeightsOnlyUnpickler(pickle, what, limits, storages).run();
    }

    private KilnFormatException error(String problem) { return KilnFormatException.at(what + " at byte " + opAt, problem); }

    private Object run() {
        while (true) {
            opAt = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (v > 5) throw error("pickle protocol " + v + " is newer than 5");
                }
                case 0x95 -> skip(8); // FRAME: a length hint only
                case '.' -> { // STOP
                    Object result = pop();
                    if (!stack.isEmpty() || !marks.isEmpty()) throw error("STOP with " + stack.size() + " value(s) left on the stack");
                    if (isInternal(result)) throw error("the pickle's result is " + describe(result) + ", not a value");
                    return result;
                }
                case '(' -> { hold(1); marks.add(stack.size()); stack.add(MARK); }
                case '0' -> { // CPython's load_pop: a MARK on top is popped too (protocol 0's recursive tuples)
                    if (!stack.isEmpty() && stack.get(stack.size() - 1) == MARK) {
                        stack.remove(stack.size() - 1);
                        marks.remove(marks.size() - 1);
                    } else {
                        pop();
                    }
                }
                case '1' -> popMark();
                case '2' -> push(peek());
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) le32()); // BININT
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) (u8() | u8() << 8)); // BININT2
                case 0x8a -> push(longOf(bytes(bigIntLength(u8(), "LONG1")))); // LONG1
                case 0x8b -> push(longOf(bytes(bigIntLength(length(le32(), "LONG4"), "LONG4")))); // LONG4
                case 'I' -> push(intLine());
                case 'L' -> push(longLine());
                case 'G' -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble()); // BINFLOAT
                case 'F' -> push(floatLine());
                case 'X' -> push(utf8(bytes(length(le32(), "BINUNICODE"))));
                case 0x8c -> push(utf8(bytes(u8()))); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(bytes(length(le64(), "BINUNICODE8"))));
                case 'T' -> push(new String(bytes(length(le32(), "BINSTRING")), StandardCharsets.ISO_8859_1));
                case 'U' -> push(new String(bytes(u8()), StandardCharsets.ISO_8859_1)); // SHORT_BINSTRING
                case 'B' -> push(bytes(length(le32(), "BINBYTES")));
                case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
                case 0x8e -> push(bytes(length(le64(), "BINBYTES8")));
                case ']' -> push(new ArrayList<>());
                case '}' -> push(new LinkedHashMap<>());
                case ')' -> push(tuple(List.of()));
                case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
                case 'l' -> { List<Object> vs = popMark(); hold(vs.size()); push(new ArrayList<>(vs)); }
                case 't' -> { List<Object> vs = popMark(); hold(vs.size()); push(tuple(vs)); }
                case 0x85 -> push(tuple(popN(1)));
                case 0x86 -> push(tuple(popN(2)));
                case 0x87 -> push(tuple(popN(3)));
                case 0x91 -> push(Collections.unmodifiableSet(setOf(popMark()))); // FROZENSET
                case 'd' -> {
                    List<Object> kv = popMark();
                    push(setItems(new LinkedHashMap<>(), kv));
                }
                case 'a' -> { Object v = pop(); hold(1); listAt(peek()).add(v); }
                case 'e' -> { List<Object> vs = popMark(); hold(vs.size()); listAt(peek()).addAll(vs); }
                case 's' -> { Object v = pop(), k = pop(); setItems(peek(), Arrays.asList(k, v)); }
                case 'u' -> { List<Object> kv = popMark(); setItems(peek(), kv); }
                case 0x90 -> { List<Object> vs = popMark(); Set<Object> set = setAt(peek()); for (Object v : vs) set.add(hashable(v, "a set element")); } // ADDITEMS
                case 'q' -> memoPut(u8()); // BINPUT
                case 'r' -> memoPut(le32() & 0xffffffffL); // LONG_BINPUT
                case 'p' -> memoPut(memoIndex(line())); // PUT
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(le32() & 0xffffffffL));
                case 'g' -> push(memoGet(memoIndex(line())));
                case 'c' -> push(global(line(), line()));
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) throw error("STACK_GLOBAL needs two strings");
                    push(global(m, n));
                }
                case 'R' -> { Object args = pop(), f = pop(); push(reduce(f, args)); }
                case 'b' -> { Object state = pop(); build(peek(), state); }
                case 'Q' -> push(persistentLoad(pop()));
                case 'P' -> throw error("PERSID (a text persistent id) is not what torch.save writes");
                case 'i', 'o', 0x81, 0x92 -> throw error("opcode " + opName(op) + " instantiates a class, which a weights-only load never does");
                case 0x82, 0x83, 0x84 -> throw error("opcode " + opName(op) + " (a copyreg extension) is not allowed in a weights-only load");
                default -> throw error("unknown or unsupported pickle opcode 0x" + Integer.toHexString(op)
                        + (op >= 0x20 && op < 0x7f ? " ('" + (char) op + "')" : ""));
            }
        }
    }

    private static String opName(int op) {
        return switch (op) {
            case 'i' -> "INST";
            case 'o' -> "OBJ";
            case 0x81 -> "NEWOBJ";
            case 0x92 -> "NEWOBJ_EX";
            default -> "EXT" + (op - 0x81);
        };
    }

    // ---- globals and calls ----------------------------------------------------------------

    private Object global(String module, String name) {
        String full = module + "." + name;
        if (module.equals("torch") && name.endsWith("Storage")) {
            if (TorchStorageType.byClassName(name) == null) {
                throw error("storage class torch." + name + " is not one Kiln reads (it reads Float, Double, Half, BFloat16, Long, Int, Short, Char, Byte and Bool storages)");
            }
            return new Global(module, name);
        }
        if (CALLABLES.contains(full)) return new Global(module, name);
        String hint = module.equals("__main__") || module.startsWith("torch.nn.")
                ? "; if this file holds a whole pickled model (torch.save(model)), save model.state_dict() instead"
                : "";
        throw error("global '" + full + "' is not allowed: a weights-only load rebuilds only tensors, storages, OrderedDicts and primitives"
                + " and never imports or calls anything else" + hint);
    }

    private Object reduce(Object f, Object argsObj) {
        if (!(f instanceof Global g)) throw error("REDUCE applies " + describe(f) + ", which is not a callable");
        if (!(argsObj instanceof List<?> args)) throw error("REDUCE of " + g + " needs an argument tuple, got " + describe(argsObj));
        String full = g.toString();
        switch (full) {
            case "collections.OrderedDict": {
                Map<Object, Object> d = new LinkedHashMap<>();
                if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
                    for (Object pair : pairs) {
                        if (!(pair instanceof List<?> kv) || kv.size() != 2) throw error("OrderedDict needs (key, value) pairs");
                        d.put(hashable(kv.get(0), "an OrderedDict key"), kv.get(1));
                    }
                } else if (!args.isEmpty()) {
                    throw error("OrderedDict takes no arguments or a list of pairs here, got " + args.size());
                }
                return d;
            }
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor":
                return rebuildTensor(args, full);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state": {
                if (args.size() < 3 || !(args.get(0) instanceof Strided data)) throw error(full + " needs (tensor, requires_grad, hooks, ...), got " + describe(args));
                return data;
            }
            case "torch.Size":
                return args.isEmpty() ? tuple(List.of()) : args.get(0);
            case "builtins.set":
            case "__builtin__.set":
            case "builtins.frozenset":
            case "__builtin__.frozenset":
                if (args.isEmpty()) return new LinkedHashSet<>();
                if (!(args.get(0) instanceof List<?> items)) throw error(full + " needs a list, got " + describe(args.get(0)));
                return setOf(items);
            case "_codecs.encode": {
                // protocol 2 pickles Python 3 bytes as _codecs.encode(str, 'latin1')
                if (args.size() != 2 || !(args.get(0) instanceof String s) || !"latin1".equals(args.get(1)))
                    throw error("_codecs.encode is allowed only as encode(str, 'latin1'), got " + describe(args));
                return s.getBytes(StandardCharsets.ISO_8859_1);
            }
            default:
                throw error(full + " is a class that can only be used as a storage type, not called");
        }
    }

    private void build(Object target, Object state) {
        // OrderedDict state dicts carry their _metadata (version per module) as instance state;
        // a Parameter may carry an empty state. Neither affects the values.
        if (target instanceof Map<?, ?> && (state instanceof Map<?, ?> || state == null)) return;
        if (target instanceof Strided && (state == null || state instanceof Map<?, ?> m && m.isEmpty()
                || state instanceof List<?> l && l.stream().allMatch(x -> x == null || x instanceof Map<?, ?> mm && mm.isEmpty()))) return;
        throw error("BUILD sets the state of " + describe(target) + " to " + describe(state) + ", which a weights-only load does not do");
    }

    private Object persistentLoad(Object pid) {
        if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0)))
            throw error("persistent id " + describe(pid) + " is not ('storage', type, key, location, numel)");
        if (!(t.get(1) instanceof Global g) || !g.module.equals("torch") || TorchStorageType.byClassName(g.name) == null)
            throw error("persistent id names storage type " + describe(t.get(1)));
        if (!(t.get(2) instanceof String key) || !key.matches("[A-Za-z0-9_]{1,64}"))
            throw error("persistent id has storage key " + describe(t.get(2)) + " (expected a short name of letters, digits and _)");
        if (!(t.get(3) instanceof String)) throw error("persistent id has location " + describe(t.get(3)));
        if (!(t.get(4) instanceof Long numel) || numel < 0) throw error("persistent id has element count " + describe(t.get(4)));
        return storages.load(key, TorchStorageType.byClassName(g.name), numel);
    }

    private Strided rebuildTensor(List<?> a, String fn) {
        if (a.size() < 4) throw error(fn + " needs (storage, offset, size, stride, ...), got " + a.size() + " arguments");
        if (!(a.get(0) instanceof StorageRef s)) throw error(fn + ": the storage argument is " + describe(a.get(0)));
        if (!(a.get(1) instanceof Long offset) || offset < 0 || offset > Integer.MAX_VALUE) throw error(fn + ": storage offset " + describe(a.get(1)));
        int[] shape = ints(a.get(2), fn + ": size"), strides = ints(a.get(3), fn + ": stride");
        if (shape.length != strides.length) throw error(fn + ": size " + Arrays.toString(shape) + " and stride " + Arrays.toString(strides) + " differ in rank");
        if (shape.length > limits.maxRank()) throw error(fn + ": rank " + shape.length + " is above the limit of " + limits.maxRank());
        if (a.size() >= 6 && a.get(5) instanceof Map<?, ?> hooks && !hooks.isEmpty()) throw error(fn + ": backward hooks cannot be loaded");
        long numel = 1;
        long last = offset;
        for (int i = 0; i < shape.length; i++) {
            numel *= shape[i]; // each factor < 2^31 and the running product is checked at once
            if (numel > Integer.MAX_VALUE) throw error(fn + ": size " + Arrays.toString(shape) + " has more than 2^31-1 elements");
            last += (long) Math.max(shape[i] - 1, 0) * strides[i]; // < 2^62 per dim; the running sum is checked at once
            if (last >= (1L << 62)) last = 1L << 62;
        }
        if (numel > 0 && last >= s.numel()) {
            throw error(fn + ": a view of size " + Arrays.toString(shape) + ", stride " + Arrays.toString(strides) + " at offset " + offset
                    + " reaches element " + last + " of storage '" + s.key() + "', which has " + s.numel());
        }
        Strided view = new Strided(s.storage(), shape, strides, offset.intValue());
        boolean whole = offset == 0 && view.isContiguous() && numel == s.numel();
        if (!whole) storages.chargeCopy(numel * s.storage().dtype().itemSize(), fn + ": a view of storage '" + s.key() + "'");
        return Copy.contiguousOf(view, s.storage().dtype());
    }

    private int[] ints(Object o, String what) {
        if (!(o instanceof List<?> l)) throw error(what + " is " + describe(o) + ", not a tuple of ints");
        int[] r = new int[l.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(l.get(i) instanceof Long v) || v < 0 || v > Integer.MAX_VALUE) throw error(what + " " + describe(l) + " has element " + describe(l.get(i)) + " (need 0..2^31-1)");
            r[i] = v.intValue();
        }
        return r;
    }

    // ---- stack ----------------------------------------------------------------------------

    private void push(Object o) {
        hold(1);
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty()) throw error("the stack is empty");
        Object o = stack.remove(stack.size() - 1);
        if (o == MARK) throw error("a MARK where a value was expected");
        return o;
    }

    private Object peek() {
        if (stack.isEmpty()) throw error("the stack is empty");
        Object o = stack.get(stack.size() - 1);
        if (o == MARK) throw error("a MARK where a value was expected");
        return o;
    }

    private List<Object> popN(int n) {
        Object[] r = new Object[n];
        for (int i = n - 1; i >= 0; i--) r[i] = pop();
        return Arrays.asList(r);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw error("no MARK on the stack");
        int at = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(at + 1, stack.size()));
        stack.subList(at, stack.size()).clear();
        return items;
    }

    private static List<Object> tuple(List<Object> items) { return Collections.unmodifiableList(new ArrayList<>(items)); }

    @SuppressWarnings("unchecked")
    private List<Object> listAt(Object o) {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw error("appending to " + describe(o) + ", which is not a list");
    }

    @SuppressWarnings("unchecked")
    private Set<Object> setAt(Object o) {
        if (o instanceof LinkedHashSet<?> s) return (Set<Object>) s;
        throw error("adding items to " + describe(o) + ", which is not a set");
    }

    @SuppressWarnings("unchecked")
    private Object setItems(Object target, List<Object> kv) {
        if (!(target instanceof Map<?, ?>)) throw error("setting items of " + describe(target) + ", which is not a dict");
        if (kv.size() % 2 != 0) throw error("an odd number of values (" + kv.size() + ") for dict items");
        Map<Object, Object> m = (Map<Object, Object>) target;
        hold(kv.size() / 2);
        for (int i = 0; i < kv.size(); i += 2) {
            m.put(hashable(kv.get(i), "a dict key"), kv.get(i + 1));
        }
        return m;
    }

    private Set<Object> setOf(List<?> items) {
        Set<Object> set = new LinkedHashSet<>();
        for (Object v : items) set.add(hashable(v, "a set element"));
        return set;
    }

    /**
     * Dict keys and set elements are primitives or flat tuples of them: what state dicts and
     * optimizer states use, and hashing them cannot recurse deeply or through a cycle.
     */
    private Object hashable(Object k, String role) {
        if (isPrimitive(k)) return k;
        // short flat tuples only: a key's hash is recomputed at every insertion
        if (k instanceof List<?> t && !(k instanceof ArrayList<?>) && t.size() <= 16 && t.stream().allMatch(WeightsOnlyUnpickler::isPrimitive)) return k;
        throw error(role + " is " + describe(k) + "; a weights-only load accepts primitives and flat tuples of them");
    }

    private static boolean isPrimitive(Object o) {
        return o == null || o instanceof String || o instanceof Long || o instanceof BigInteger || o instanceof Double || o instanceof Boolean;
    }

    private void memoPut(long i) {
        hold(1);
        memo.put(i, peek());
    }

    private Object memoGet(long i) {
        if (!memo.containsKey(i)) throw error("memo entry " + i + " was never stored");
        return memo.get(i);
    }

    // ---- reading --------------------------------------------------------------------------

    private int u8() {
        if (pos >= p.length) throw error("the pickle ends without STOP (truncated after " + p.length + " bytes)");
        return p[pos++] & 0xff;
    }

    private int le32() { return u8() | u8() << 8 | u8() << 16 | u8() << 24; }

    private long le64() {
        long lo = le32() & 0xffffffffL, hi = le32() & 0xffffffffL;
        return lo | hi << 32;
    }

    /**
     * Integers beyond 256 bits have no place in a state dict, and printing or hashing a huge
     * one costs time superlinear in its length (CPython limits int digits for the same reason).
     */
    private int bigIntLength(int n, String op) {
        if (n > 32) throw error(op + " holds an integer of " + n + " bytes; a weights-only load reads integers up to 256 bits");
        return n;
    }

    /** A declared length, checked against what is left of the pickle before anything is allocated. */
    private int length(long n, String op) {
        if (n < 0 || n > p.length - pos) throw error(op + " declares " + (n < 0 ? "a negative length" : n + " bytes") + " but " + (p.length - pos) + " remain");
        return (int) n;
    }

    private byte[] bytes(int n) {
        length(n, "a value");
        byte[] r = Arrays.copyOfRange(p, pos, pos + n);
        pos += n;
        return r;
    }

    private void skip(int n) { bytes(n); }

    private String line() {
        int start = pos;
        while (pos < p.length && p[pos] != '\n' && pos - start <= 256) pos++;
        if (pos - start > 256) throw error("a text argument is longer than 256 bytes");
        if (pos >= p.length) throw error("a text argument has no end of line");
        String s = new String(p, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private String utf8(byte[] b) {
        var dec = StandardCharsets.UTF_8.newDecoder();
        try {
            return dec.decode(ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw error("a string is not valid UTF-8");
        }
    }

    private static Object longOf(byte[] le) {
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Object intLine() {
        String s = line();
        if (s.equals("01")) return Boolean.TRUE; // protocol 0's booleans
        if (s.equals("00")) return Boolean.FALSE;
        return parseInt(s);
    }

    private Object longLine() {
        String s = line();
        return parseInt(s.endsWith("L") ? s.substring(0, s.length() - 1) : s);
    }

    private Object parseInt(String s) {
        if (s.length() > limits.maxNumberLength()) throw error("an integer of " + s.length() + " digits");
        try {
            BigInteger v = new BigInteger(s);
            return v.bitLength() < 64 ? (Object) v.longValue() : v;
        } catch (NumberFormatException e) {
            throw error("'" + s + "' is not an integer");
        }
    }

    private Object floatLine() {
        String s = line();
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw error("'" + s + "' is not a float");
        }
    }

    private long memoIndex(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw error("memo index '" + s + "' is not a number");
        }
    }

    /** The machine's own records (a global, a storage) are not values a caller may receive. */
    static boolean isInternal(Object o) { return o instanceof Global || o instanceof StorageRef; }

    /** A short description of a value for errors (never its whole content). */
    static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof Global g) return "global " + g;
        if (o instanceof String s) return "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
        if (o instanceof BigInteger b) return "an integer of " + b.bitLength() + " bits";
        if (o instanceof Long || o instanceof Double || o instanceof Boolean) return String.valueOf(o);
        if (o instanceof Strided t) return "a tensor " + t.dtype() + Arrays.toString(t.shape());
        if (o instanceof StorageRef s) return "storage '" + s.key() + "'";
        if (o instanceof Map<?, ?> m) return "a dict of " + m.size();
        if (o instanceof List<?> l) return (l instanceof ArrayList<?> ? "a list of " : "a tuple of ") + l.size();
        if (o instanceof Set<?> s) return "a set of " + s.size();
        if (o instanceof byte[] b) return b.length + " bytes";
        return o.getClass().getSimpleName();
    }
}
