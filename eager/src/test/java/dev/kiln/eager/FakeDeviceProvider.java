package dev.kiln.eager;

import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.cpu.CpuKernels;
import dev.kiln.backend.device.Availability;
import dev.kiln.backend.device.DeviceExecutor;
import dev.kiln.backend.device.DeviceProvider;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A second device kind for kiln-eager's tests, {@code fake:0}, registered through
 * META-INF/services like the CUDA module, so device moves, the funnel's routing, gradients
 * across devices and device-resident storage are tested on machines without a GPU. Its kind is
 * not "cuda", so CUDA stays unavailable in these tests.
 *
 * <p>It behaves like the CUDA executor's memory model: "device memory" is a second host array
 * per storage (valid for one storage version), every op runs the CPU kernels on those arrays,
 * and results live only in device memory ({@link Storage#onDevice}) until the host reads them.
 * It counts ops, uploads and copies back to the host, so tests can see which ones happen.
 */
public final class FakeDeviceProvider implements DeviceProvider {
    /** Ops the fake executor has run (all threads). */
    static final AtomicInteger OPS_RUN = new AtomicInteger();
    /** Host-to-device copies of a storage's contents. */
    static final AtomicInteger UPLOADS = new AtomicInteger();
    /** In-place writes that took over a temporary's device memory instead of copying it. */
    static final AtomicInteger HAND_OVERS = new AtomicInteger();
    /** Device-to-host copies (a host read of a device-resident storage). */
    static final AtomicInteger COPIES_TO_HOST = new AtomicInteger();

    /** The fake device (the provider is found by kind, so {@link Device#checkAvailable} passes). */
    static Device device() { return Device.unchecked("fake", 0); }

    @Override
    public String kind() { return "fake"; }

    @Override
    public Availability availability() { return Availability.available(1); }

    @Override
    public DeviceExecutor executor(int index) { return EXECUTOR; }

    private static final FakeExecutor EXECUTOR = new FakeExecutor();

    private static final class FakeExecutor implements DeviceExecutor, Storage.Residence {
        /** A storage's device copy: a plain host storage standing in for device memory. */
        private record DeviceCopy(Storage memory, int version) {}

        private final Map<Storage, DeviceCopy> memory = Collections.synchronizedMap(new WeakHashMap<>());

        @Override
        public String deviceName() { return "fake:0"; }

        /** Like CUDA, fake:0 lacks some kernels: cumsum, so the CPU fallback is tested. */
        @Override
        public boolean supports(Op op) { return op != Op.CUMSUM; }

        @Override
        public Strided run(Op op, Strided[] inputs, Attrs attrs, TensorType out) {
            if (!supports(op)) throw new UnsupportedOperationException(op.opName() + " on fake:0: no kernel for this op");
            OPS_RUN.incrementAndGet();
            Strided[] onDevice = new Strided[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                Strided x = inputs[i];
                onDevice[i] = new Strided(deviceCopy(x.storage()), x.shape(), x.strides(), x.offset());
            }
            Strided r = CpuKernels.run(op, onDevice, attrs, out);
            Strided dense = r.offset() == 0 && r.isContiguous() && r.numel() == r.storage().length() ? r : copyOf(r);
            Storage result = Storage.onDevice(dense.dtype(), dense.numel(), this);
            memory.put(result, new DeviceCopy(dense.storage(), result.version()));
            return Strided.contiguous(result, dense.shape());
        }

        @Override
        public boolean writeInto(Strided value, Strided dest, boolean valueIsTemporary) {
            Storage target = dest.storage();
            if (dest.offset() != 0 || !dest.isContiguous() || dest.numel() != target.length() || !Arrays.equals(value.shape(), dest.shape())) {
                return false;
            }
            Storage from = value.storage();
            DeviceCopy current = memory.get(from);
            if (valueIsTemporary && current != null && current.version() == from.version() && from != target && from.dtype() == target.dtype()
                    && from.length() == target.length()) {
                // as CUDA's DeviceMirrors.handOver: the temporary's device memory becomes the target's
                memory.remove(from);
                target.bumpVersion();
                memory.put(target, new DeviceCopy(current.memory(), target.version()));
                target.hostIsStale(this);
                HAND_OVERS.incrementAndGet();
                return true;
            }
            Strided src = new Strided(deviceCopy(value.storage()), value.shape(), value.strides(), value.offset());
            Strided fresh = Strided.allocate(target.dtype(), dest.shape());
            Copy.copyInto(src, fresh);
            target.bumpVersion();
            memory.put(target, new DeviceCopy(fresh.storage(), target.version()));
            target.hostIsStale(this);
            return true;
        }

        @Override
        public void copyToHost(Storage s, Object hostArray) {
            COPIES_TO_HOST.incrementAndGet();
            DeviceCopy c = memory.get(s);
            if (c == null) throw new IllegalStateException("fake device: no device copy of this storage");
            System.arraycopy(c.memory().array(), 0, hostArray, 0, s.length());
        }

        /**
         * s's device copy, uploaded when missing or older than s's version. A one-element host
         * storage (a Java scalar operand) is read as it is, as the CUDA executor passes it from a
         * cache of constants instead of uploading it for every op.
         */
        private Storage deviceCopy(Storage s) {
            if (s.length() == 1 && s.isOnHost()) return s;
            DeviceCopy c = memory.get(s);
            if (c != null && c.version() == s.version()) return c.memory();
            UPLOADS.incrementAndGet();
            Strided all = Strided.contiguous(s, new int[] {s.length()});
            Strided copy = copyOf(all);
            memory.put(s, new DeviceCopy(copy.storage(), s.version()));
            return copy.storage();
        }

        private static Strided copyOf(Strided x) {
            Strided fresh = Strided.allocate(x.dtype(), x.shape());
            Copy.copyInto(x, fresh);
            return fresh;
        }
    }
}
