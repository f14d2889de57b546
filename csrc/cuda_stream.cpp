// A small shim over libtorch's CUDA stream pool, which tch does not expose: each extraction
// worker thread scores its archs on a stream of its own, so kernels of different archs can
// run concurrently instead of queueing on the default stream (see DESIGN.md, "Where GPU speed
// comes from"). The current stream is thread-local in c10, so setting it affects only the
// calling thread.
#include <c10/cuda/CUDAStream.h>

extern "C" {

// Makes a stream from libtorch's pool the calling thread's current stream on `device`.
// Returns 0 on success, -1 when CUDA is unavailable or the call fails.
int gf_use_pool_stream(int device) {
  try {
    auto stream = c10::cuda::getStreamFromPool(false, static_cast<c10::DeviceIndex>(device));
    c10::cuda::setCurrentCUDAStream(stream);
    return 0;
  } catch (...) {
    return -1;
  }
}

// Waits for the work queued on the calling thread's current stream on `device`.
int gf_sync_current_stream(int device) {
  try {
    c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device)).synchronize();
    return 0;
  } catch (...) {
    return -1;
  }
}
}
