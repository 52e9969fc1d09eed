//! The cheap, stable hashing the simulator derives all of its data from:
//! FNV-1a for strings and SplitMix64 to mix numbers. Stable across runs,
//! platforms and versions of Rust, which `std`'s hasher does not promise; not
//! meant to resist anyone trying to find collisions.

/// FNV-1a over bytes.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |acc, b| {
        (acc ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The SplitMix64 output function: a bijection that scatters nearby inputs.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes a sequence of numbers; the order of the parts matters.
pub fn mix(parts: &[u64]) -> u64 {
    mix_seeded(0x5eed, parts)
}

/// [`mix`] starting from `seed` instead of a constant, so that callers can
/// keep unrelated uses apart without allocating.
pub fn mix_seeded(seed: u64, parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(seed, |acc, part| splitmix(acc ^ splitmix(*part)))
}

/// A uniform number in `[0, 1)` from the top 53 bits of a hash.
pub fn unit(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// A bell-shaped number with mean 0 and variance 1, bounded by ±2√3: the
/// scaled sum of four uniforms taken from the four 16-bit lanes of a hash.
/// Bounded tails keep every generated price finite and positive.
pub fn bell(hash: u64) -> f64 {
    let lanes: f64 = (0..4)
        .map(|i| ((hash >> (16 * i)) & 0xffff) as f64 / 65535.0)
        .sum();
    (lanes - 2.0) * 3f64.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_across_builds() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(splitmix(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn unit_and_bell_stay_in_their_ranges() {
        let bound = 2.0 * 3f64.sqrt();
        let samples: Vec<u64> = (0..10_000).map(|i| mix(&[i])).collect();
        assert!(samples.iter().all(|h| (0.0..1.0).contains(&unit(*h))));
        assert!(samples.iter().all(|h| bell(*h).abs() <= bound));
        let mean = samples.iter().map(|h| bell(*h)).sum::<f64>() / samples.len() as f64;
        let var = samples.iter().map(|h| bell(*h).powi(2)).sum::<f64>() / samples.len() as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }
}
