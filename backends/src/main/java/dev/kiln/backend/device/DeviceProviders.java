package dev.kiln.backend.device;

import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/** Looks up {@link DeviceProvider}s by kind once (the class path does not change at run time). */
public final class DeviceProviders {
    private DeviceProviders() {}

    /** Declared before BY_KIND: load() writes to it during class initialization. */
    private static final Map<String, String> BROKEN = new ConcurrentHashMap<>();
    private static final Map<String, DeviceProvider> BY_KIND = load();

    private static Map<String, DeviceProvider> load() {
        Map<String, DeviceProvider> m = new ConcurrentHashMap<>();
        try {
            for (DeviceProvider p : ServiceLoader.load(DeviceProvider.class, DeviceProviders.class.getClassLoader())) {
                m.putIfAbsent(p.kind(), p);
            }
        } catch (ServiceConfigurationError | LinkageError e) {
            // a broken provider must not take the CPU path down with it; availability() says why
            BROKEN.put("load", e.toString());
        }
        return m;
    }

    /** The provider for kind, or null when no module on the class path provides it. */
    public static DeviceProvider find(String kind) { return BY_KIND.get(kind); }

    /** Availability of kind, including "no provider module" as an unavailability reason. */
    public static Availability availability(String kind) {
        DeviceProvider p = BY_KIND.get(kind);
        if (p != null) return p.availability();
        String why = "the kiln-backends-" + kind + " module is not on the class path";
        String broken = BROKEN.get("load");
        return Availability.unavailable(broken == null ? why : why + " (loading device providers failed: " + broken + ")");
    }
}
