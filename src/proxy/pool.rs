//! The one worker pool every caller computes proxy vectors on (`extract`'s chunks, `search`'s
//! batches, `evolve`'s fitness cache and held-out archs), and the one place that decides which
//! archs' full vectors a set of archs needs when isomorphic archs share values.
//!
//! A pool runs one thread per worker, each with its own engine, under the settings the shipped
//! tables were computed with: one libtorch CPU thread per worker whatever the worker count
//! (libtorch's parallel reductions sum in an order that depends on its thread count, so a fixed
//! count keeps values bitwise identical for any `--workers` and machine; parallelism comes from
//! the workers, and on a GPU 16 workers × 16 libtorch threads would oversubscribe the cores),
//! libtorch's CUDA linalg kernels loaded before the threads start (their lazy loading is not
//! thread-safe), and on CUDA a stream and a backward thread of each worker's own so that archs
//! overlap on the GPU. Work always runs on a pool thread, also with one worker, so that a value
//! never depends on which thread computed it (libtorch's CPU settings are per thread).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use tch::Device;

use super::{Engine, ProxyError};
use crate::space::Arch;

/// Runs `work` once on each of `states.len()` threads, thread `w` with `&mut states[w]` (an
/// engine, or what builds one), under the pool's settings (module docs). Returns when every
/// thread has finished.
pub fn on_threads<S: Send>(
    device: Device,
    states: &mut [S],
    work: impl Fn(&mut S) + Sync,
) -> Result<(), ProxyError> {
    tch::set_num_threads(1);
    crate::net::load_cuda_linalg(device)?;
    std::thread::scope(|s| {
        for state in states.iter_mut() {
            let work = &work;
            // `&mut`: an engine's tensors may move to another thread but not be shared.
            s.spawn(move || {
                crate::net::use_private_stream(device);
                crate::net::use_own_backward_thread(device);
                work(state)
            });
        }
    });
    Ok(())
}

/// `f` of each item (an arch, or a group of archs for the batched engine), computed on
/// `engines` (one thread each, [`on_threads`]), in item order; `progress(done)` is called on
/// the calling thread as results arrive. The first failing item (in item order among those
/// computed) stops the run and is returned with its position.
pub fn map_archs<I: Sync, T: Send, E: Send>(
    engines: &mut [Engine],
    archs: &[I],
    f: impl Fn(&Engine, &I) -> Result<T, E> + Sync,
    progress: &mut dyn FnMut(usize),
) -> Result<Result<Vec<T>, (usize, E)>, ProxyError> {
    let Some(device) = engines.first().map(|e| e.device) else {
        return Err(ProxyError::NoWorkers);
    };
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<T>> = (0..archs.len()).map(|_| None).collect();
    let mut failed: Option<(usize, E)> = None;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| -> Result<(), ProxyError> {
        let (next, f) = (&next, &f);
        // `move`: the pool thread owns the sender, so the receiver below ends with the workers.
        let pool = s.spawn(move || {
            on_threads(device, engines, |engine| {
                let tx = tx.clone();
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    if k >= archs.len() {
                        break;
                    }
                    let r = f(engine, &archs[k]);
                    let stop = r.is_err();
                    if tx.send((k, r)).is_err() || stop {
                        break;
                    }
                }
            })
        });
        let mut done = 0;
        for (k, r) in rx {
            match r {
                Ok(v) => {
                    out[k] = Some(v);
                    done += 1;
                    progress(done);
                }
                Err(e) => {
                    next.store(archs.len(), Ordering::SeqCst);
                    if failed.as_ref().is_none_or(|(j, _)| k < *j) {
                        failed = Some((k, e));
                    }
                }
            }
        }
        pool.join().expect("the pool's threads do not panic")
    })?;
    if let Some(failure) = failed {
        return Ok(Err(failure));
    }
    Ok(Ok(out
        .into_iter()
        .map(|v| v.expect("every arch computed"))
        .collect()))
}

/// The archs whose full vectors `archs` need, in order of first appearance, each once: the
/// archs themselves, or with `share_isomorphic` their class representatives
/// ([`crate::space::Arch::representative`]), from whose vectors [`Engine::score_shared`] makes
/// every member's.
pub fn full_vectors_needed(share_isomorphic: bool, archs: &[Arch]) -> Vec<Arch> {
    let mut seen = HashSet::new();
    archs
        .iter()
        .map(|a| computed_for(share_isomorphic, a))
        .filter(|a| seen.insert(a.index()))
        .collect()
}

/// The arch whose full vector `arch`'s values come from: itself, or with `share_isomorphic`
/// its class representative.
pub fn computed_for(share_isomorphic: bool, arch: &Arch) -> Arch {
    if share_isomorphic {
        arch.representative()
    } else {
        *arch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Space;

    #[test]
    fn full_vectors_are_the_representatives_once_in_first_order() {
        let archs: Vec<Arch> = (0..40).map(|i| Space::Tss.arch(i).unwrap()).collect();
        let needed = full_vectors_needed(true, &archs);
        let reps: Vec<Arch> = archs.iter().map(|a| a.representative()).collect();
        let mut expect: Vec<Arch> = Vec::new();
        for r in &reps {
            if !expect.contains(r) {
                expect.push(*r);
            }
        }
        assert_eq!(needed, expect);
        assert!(needed.len() < archs.len(), "some of the 40 share a class");
        assert_eq!(full_vectors_needed(false, &archs), archs);
        let doubled: Vec<Arch> = archs.iter().chain(&archs).copied().collect();
        assert_eq!(full_vectors_needed(false, &doubled), archs);
    }
}
