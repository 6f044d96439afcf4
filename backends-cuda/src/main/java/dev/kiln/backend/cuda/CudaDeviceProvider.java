package dev.kiln.backend.cuda;

import dev.kiln.backend.device.Availability;
import dev.kiln.backend.device.DeviceExecutor;
import dev.kiln.backend.device.DeviceProvider;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Registers CUDA with kiln-backends' ServiceLoader lookup (META-INF/services). */
public final class CudaDeviceProvider implements DeviceProvider {
    private final Map<Integer, CudaExecutor> executors = new ConcurrentHashMap<>();

    @Override
    public String kind() { return "cuda"; }

    @Override
    public Availability availability() { return CudaDevice.availability(); }

    @Override
    public DeviceExecutor executor(int index) {
        return executors.computeIfAbsent(index, i -> new CudaExecutor(CudaBackend.device(i)));
    }
}
