// A small shim over libtorch's CUDA stream pool, which tch does not expose: each extraction
// worker thread scores its archs on a stream of its own, so kernels of different archs can
// run concurrently instead of queueing on the default stream (see DESIGN.md, "Where GPU speed
// comes from"). It goes through c10's device-generic guard interface, so it needs neither CUDA
// headers nor a link to libc10_cuda: the CUDA implementation is found at run time once
// libtorch_cuda is loaded. The current stream is thread-local in c10, so setting it affects
// only the calling thread.
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
}
