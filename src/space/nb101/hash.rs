//! NAS-Bench-101's module hash (Ying et al., "NAS-Bench-101", ICML 2019; the reference code's
//! `graph_util.hash_module`): a Weisfeiler-Lehman-style fingerprint that isomorphic cells
//! share. Each vertex starts from the MD5 of `(out-degree, in-degree, label)` written as a
//! Python tuple; then, as many times as there are vertices, each vertex's hash becomes the MD5
//! of its sorted in-neighbour hashes, `|`, its sorted out-neighbour hashes, `|`, its own hash;
//! the fingerprint is the MD5 of the sorted hashes written as a Python list. Labels: −1 input,
//! −2 output, 0 conv3x3, 1 conv1x1, 2 maxpool3x3. MD5 is RFC 1321's, written out here.

use super::Nb101Arch;

/// The module hash of `cell`, as the 32 hex digits NAS-Bench-101 keys its data by.
pub fn module_hash(cell: &Nb101Arch) -> String {
    let n = cell.vertices();
    let edge = |a: usize, b: usize| cell.edge(a, b);
    let label = |v: usize| -> i32 {
        if v == 0 {
            -1
        } else if v == n - 1 {
            -2
        } else {
            cell.op(v) as i32
        }
    };
    let mut hashes: Vec<String> = (0..n)
        .map(|v| {
            let out = (0..n).filter(|&w| edge(v, w)).count();
            let inn = (0..n).filter(|&w| edge(w, v)).count();
            hex(&md5(format!("({out}, {inn}, {})", label(v)).as_bytes()))
        })
        .collect();
    for _ in 0..n {
        hashes = (0..n)
            .map(|v| {
                let mut ins: Vec<&str> = (0..n)
                    .filter(|&w| edge(w, v))
                    .map(|w| hashes[w].as_str())
                    .collect();
                let mut outs: Vec<&str> = (0..n)
                    .filter(|&w| edge(v, w))
                    .map(|w| hashes[w].as_str())
                    .collect();
                ins.sort_unstable();
                outs.sort_unstable();
                let text = format!("{}|{}|{}", ins.concat(), outs.concat(), hashes[v]);
                hex(&md5(text.as_bytes()))
            })
            .collect();
    }
    hashes.sort_unstable();
    let listed: Vec<String> = hashes.iter().map(|h| format!("'{h}'")).collect();
    hex(&md5(format!("[{}]", listed.join(", ")).as_bytes()))
}

fn hex(digest: &[u8; 16]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// MD5 (RFC 1321) of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    // Per-round shift amounts and the constants floor(|sin(i + 1)| · 2^32) (RFC 1321, 3.4).
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: [u32; 64] =
        std::array::from_fn(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32);
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    for chunk in msg.chunks_exact(64) {
        let m: [u32; 16] = std::array::from_fn(|i| {
            u32::from_le_bytes([
                chunk[4 * i],
                chunk[4 * i + 1],
                chunk[4 * i + 2],
                chunk[4 * i + 3],
            ])
        });
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0u8; 16];
    for (i, s) in state.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1321's test suite (appendix A.5).
    #[test]
    fn md5_matches_rfc_1321() {
        let cases = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(hex(&md5(text.as_bytes())), want, "{text:?}");
        }
    }
}
