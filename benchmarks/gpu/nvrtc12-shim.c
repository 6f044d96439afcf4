/*
 * libnvrtc.so.12 for machines that only have CUDA 13's libnvrtc.so.13.
 *
 * Why: JCuda 12.6 (the newest JCuda) links its NVRTC binding against libnvrtc.so.12 with
 * versioned symbols (nvrtcCompileProgram@libnvrtc.so.12), so a symlink to libnvrtc.so.13 does
 * not load. The NVRTC calls Kiln makes kept their signatures from 12 to 13, so this library
 * exports the 12 names under the 12 version and forwards each call to libnvrtc.so.13.
 * Only the GPU test/benchmark run (benchmarks/gpu/run.sh) uses it; it is built there, not
 * shipped. Every NVRTC entry point takes at most six integer or pointer arguments and returns
 * an int or a pointer, so on x86-64 System V one forwarder with six long arguments passes
 * them through unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef long (*entry_t)(long, long, long, long, long, long);

static void *nvrtc13;

static entry_t lookup(const char *name) {
    if (!nvrtc13) {
        nvrtc13 = dlopen("libnvrtc.so.13", RTLD_NOW | RTLD_GLOBAL);
        if (!nvrtc13) {
            fprintf(stderr, "nvrtc12-shim: cannot load libnvrtc.so.13: %s\n", dlerror());
            return NULL;
        }
    }
    return (entry_t) dlsym(nvrtc13, name);
}

/* NVRTC_ERROR_INTERNAL_ERROR: what an entry point missing from NVRTC 13 returns. */
#define MISSING 11L

#define FORWARD(name)                                                        \
    long name(long a, long b, long c, long d, long e, long f) {              \
        static entry_t real;                                                 \
        if (!real) real = lookup(#name);                                     \
        if (!real) return MISSING;                                           \
        return real(a, b, c, d, e, f);                                       \
    }

FORWARD(nvrtcVersion)
FORWARD(nvrtcGetNumSupportedArchs)
FORWARD(nvrtcGetSupportedArchs)
FORWARD(nvrtcCreateProgram)
FORWARD(nvrtcDestroyProgram)
FORWARD(nvrtcCompileProgram)
FORWARD(nvrtcGetPTXSize)
FORWARD(nvrtcGetPTX)
FORWARD(nvrtcGetCUBINSize)
FORWARD(nvrtcGetCUBIN)
FORWARD(nvrtcGetNVVMSize)
FORWARD(nvrtcGetNVVM)
FORWARD(nvrtcGetLTOIRSize)
FORWARD(nvrtcGetLTOIR)
FORWARD(nvrtcGetOptiXIRSize)
FORWARD(nvrtcGetOptiXIR)
FORWARD(nvrtcGetProgramLogSize)
FORWARD(nvrtcGetProgramLog)
FORWARD(nvrtcAddNameExpression)
FORWARD(nvrtcGetLoweredName)

/* nvrtcGetErrorString returns a pointer and must answer even when NVRTC 13 is missing. */
const char *nvrtcGetErrorString(int result) {
    static const char *(*real)(int);
    if (!real) real = (const char *(*)(int)) lookup("nvrtcGetErrorString");
    return real ? real(result) : "NVRTC 13 could not be loaded (nvrtc12-shim)";
}
