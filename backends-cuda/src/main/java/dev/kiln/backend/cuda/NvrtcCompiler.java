package dev.kiln.backend.cuda;

import static jcuda.nvrtc.JNvrtc.nvrtcCompileProgram;
import static jcuda.nvrtc.JNvrtc.nvrtcCreateProgram;
import static jcuda.nvrtc.JNvrtc.nvrtcDestroyProgram;
import static jcuda.nvrtc.JNvrtc.nvrtcGetPTX;
import static jcuda.nvrtc.JNvrtc.nvrtcGetProgramLog;

import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;
import jcuda.nvrtc.nvrtcResult;

/**
 * Compiles CUDA C to PTX at run time, for the exact GPU in the machine: no prebuilt binaries
 * to ship per architecture, and generated fused kernels compile the same way.
 */
final class NvrtcCompiler {
    private NvrtcCompiler() {}

    static String compile(String source, String name, String arch) {
        JNvrtc.setExceptionsEnabled(false);
        nvrtcProgram prog = new nvrtcProgram();
        CudaErrors.checkNvrtc(nvrtcCreateProgram(prog, source, name, 0, null, null), "nvrtcCreateProgram(" + name + ")");
        try {
            String[] options = {"--gpu-architecture=" + arch, "--std=c++14"};
            int r = nvrtcCompileProgram(prog, options.length, options);
            if (r != nvrtcResult.NVRTC_SUCCESS) {
                String[] log = {""};
                nvrtcGetProgramLog(prog, log);
                throw new CudaException("NVRTC could not compile " + name + " for " + arch + ": " + nvrtcResult.stringFor(r) + "\n" + log[0]);
            }
            String[] ptx = {null};
            CudaErrors.checkNvrtc(nvrtcGetPTX(prog, ptx), "nvrtcGetPTX(" + name + ")");
            return ptx[0];
        } finally {
            nvrtcDestroyProgram(prog);
        }
    }
}
