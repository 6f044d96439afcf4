package dev.kiln.eager;

/**
 * Which device an op runs on: the one all its inputs share. A 0-d CPU tensor (a wrapped Java
 * scalar) may join tensors on any device, as in PyTorch; anything else on two devices is an
 * error naming the op, never a silent copy.
 */
final class DeviceRule {
    private DeviceRule() {}

    static Device common(String opName, Tensor[] inputs) {
        Device found = null;
        for (Tensor t : inputs) {
            Device d = t.device();
            if (d.isCpu() && t.dim() == 0) continue;
            if (found == null) found = d;
            else if (!found.equals(d)) {
                throw new IllegalArgumentException(opName + ": tensors are on different devices: " + found + " and " + d
                        + " (move one with .to(device) first)");
            }
        }
        if (found != null) return found;
        return inputs.length == 0 ? Device.cpu() : inputs[0].device();
    }
}
