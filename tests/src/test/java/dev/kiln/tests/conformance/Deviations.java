package dev.kiln.tests.conformance;

import java.util.Map;

/**
 * Gradients where Kiln deliberately differs from PyTorch, by "family/case id", with the
 * reason. The forward outputs of these cases are still checked; only their gradients are not.
 */
final class Deviations {
    private Deviations() {}

    static final Map<String, String> GRADIENT = Map.of(
            // PyTorch picks its prod backward by whether the *whole tensor* holds a zero: with one,
            // it uses products of the others (finite next to NaN/inf), without, result / input.
            // Kiln always uses result / input off zeros, so it never depends on unrelated rows.
            "reduction/prod/nan_inf", "prod gradient at NaN/inf when another row holds a zero",
            // correction > n: PyTorch's forward divides by max(0, n - correction) but its backward by
            // n - correction (a finite -2 here); Kiln differentiates its forward, which gives NaN.
            "reduction/var/c2_single", "var gradient when correction exceeds the count",
            // Kiln's max()/min() are amax()/amin(), whose gradient (in PyTorch too) is NaN when the
            // result is NaN; PyTorch's max() alone sends the gradient to the NaN elements instead.
            "reduction/max_all/nan", "max() gradient with a NaN maximum (Kiln follows amax)",
            "reduction/min_all/nan", "min() gradient with a NaN minimum (Kiln follows amin)");
}
