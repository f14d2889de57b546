// A small shim over libtorch facilities tch does not expose. The first two are set per worker
// thread so that extraction workers overlap on one GPU (see DESIGN.md, "Where GPU speed comes
// from"); the third is process-wide:
//
// 1. libtorch's CUDA stream pool: each worker scores its archs on a stream of its own, so
//    kernels of different archs can run concurrently instead of queueing on the default
//    stream. It goes through c10's device-generic guard interface, so it needs neither CUDA
//    headers nor a link to libc10_cuda: the CUDA implementation is found at run time once
//    libtorch_cuda is loaded. The current stream is thread-local in c10.
// 2. The autograd engine's thread choice. By default libtorch runs every CUDA backward pass of
//    the process on one engine thread per device (the device ready queue is shared by all graph
//    tasks, `torch/csrc/autograd/engine.cpp`, `Engine::ready_queue`), so the backward passes of
//    all workers are launched one after another by a single CPU thread. With the thread-local
//    `AutogradState` flag `multithreading_enabled` off — what Python's
//    `torch.autograd.set_multithreading_enabled(False)` sets — the engine puts CUDA nodes on the
//    calling thread's CPU ready queue instead, so each worker launches its own backward passes.
// 3. cuDNN's deterministic algorithms with benchmark autotuning off (Python's
//    `torch.backends.cudnn.deterministic = True`, `benchmark = False`), so that a CUDA table is
//    the same in every run: libtorch otherwise lets cuDNN pick algorithms whose backward passes
//    accumulate in a nondeterministic order. No effect on CPU kernels.
#include <ATen/Context.h>
#include <c10/core/AutogradState.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

extern "C" {

// Makes a stream from libtorch's pool the calling thread's current stream on CUDA `device`.
// Returns 0 on success, -1 when CUDA is unavailable or the call fails.
int gf_use_pool_stream(int device) {
  try {
    const auto* impl = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
    c10::Device dev(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device));
    c10::Stream stream = impl->getStreamFromGlobalPool(dev, false);
    impl->exchangeStream(stream);
    return 0;
  } catch (...) {
    return -1;
  }
}

// Sets the calling thread's autograd multithreading flag (1: backward on the engine's device
// threads, libtorch's default; 0: backward on the calling thread).
void gf_set_autograd_multithreading(int enabled) {
  c10::AutogradState::get_tls_state().set_multithreading_enabled(enabled != 0);
}

// The calling thread's autograd multithreading flag (1 or 0).
int gf_autograd_multithreading() {
  return c10::AutogradState::get_tls_state().get_multithreading_enabled() ? 1 : 0;
}

// Process-wide: cuDNN deterministic, no benchmark autotuning.
void gf_deterministic_cudnn() {
  at::globalContext().setDeterministicCuDNN(true);
  at::globalContext().setBenchmarkCuDNN(false);
}

// Whether cuDNN is in deterministic mode (1 or 0).
int gf_cudnn_deterministic() {
  return at::globalContext().deterministicCuDNN() ? 1 : 0;
}
}
