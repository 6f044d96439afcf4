package dev.kiln.serialization;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Jazzer fuzz target over the artifact loader. In a normal build it runs in regression mode:
 * every input committed under KilnLoaderFuzzTestInputs/loadsOrRejectsCleanly (valid artifacts,
 * truncations, bad ops, deep nesting, duplicate keys, control-flow bodies) is replayed as a test. Run it as a real
 * fuzzer with JAZZER_FUZZ=1; any crash it finds is written there and becomes a regression case.
 * The contract: untrusted bytes either load or fail with KilnFormatException, nothing else.
 */
class KilnLoaderFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void loadsOrRejectsCleanly(byte[] document) {
        try {
            KilnReader.fromJson(document, LoadLimits.defaults());
        } catch (KilnFormatException expected) {
            // a clear, field-naming rejection is the other allowed outcome
        }
    }
}
