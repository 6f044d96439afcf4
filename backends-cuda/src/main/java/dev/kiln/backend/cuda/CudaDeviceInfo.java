package dev.kiln.backend.cuda;

/** What discovery learned about one GPU. */
public record CudaDeviceInfo(int index, String name, int computeMajor, int computeMinor, long totalMemory) {
    /** The NVRTC target for this device, e.g. {@code compute_90}. */
    public String nvrtcArch() { return "compute_" + computeMajor + computeMinor; }

    @Override
    public String toString() {
        return "cuda:" + index + " " + name + " (compute " + computeMajor + "." + computeMinor + ", " + (totalMemory >> 20) + " MiB)";
    }
}
