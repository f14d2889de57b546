//! A small deterministic random number generator, so that sampling and per-arch seeds are the
//! same on every platform and crate version (no dependency whose stream may change).

/// SplitMix64 (Steele, Lea & Flood 2014; the seeding generator of xoshiro). Good statistical
/// quality for sampling and seeding; not for cryptography.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The generator's state: `SplitMix64::new(g.state())` continues `g`'s stream.
    pub fn state(&self) -> u64 {
        self.state
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift with rejection; unbiased). `n` must be > 0.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        loop {
            let x = self.next_u64();
            let m = (x as u128) * (n as u128);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform in `[0, 1)` with 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `n` standard normal values, Box–Muller with both outputs of each pair used (the last
    /// pair's second value dropped when `n` is odd); `u1` is taken from (0, 1] so its log is
    /// finite. The synthetic batch and zen's draws both come from here.
    pub fn normals_f32(&mut self, n: usize) -> Vec<f32> {
        let mut v = Vec::with_capacity(n + 1);
        while v.len() < n {
            let u1 = 1.0 - self.next_f64();
            let u2 = self.next_f64();
            let r = (-2.0 * u1.ln()).sqrt();
            let t = 2.0 * std::f64::consts::PI * u2;
            v.push((r * t.cos()) as f32);
            v.push((r * t.sin()) as f32);
        }
        v.truncate(n);
        v
    }
}

/// Mixes a run seed with a stream id (e.g. an arch index or a tree number) into an independent
/// seed, so results never depend on evaluation order.
pub fn derive_seed(run_seed: u64, stream: u64) -> u64 {
    let mut r = SplitMix64::new(run_seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
    r.next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_covers() {
        let mut r = SplitMix64::new(1);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let x = r.below(7) as usize;
            seen[x] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn derived_seeds_differ() {
        assert_ne!(derive_seed(0, 1), derive_seed(0, 2));
        assert_ne!(derive_seed(1, 1), derive_seed(0, 1));
        assert_eq!(derive_seed(5, 9), derive_seed(5, 9));
    }
}
