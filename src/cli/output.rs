//! Table / CSV / JSON output of rows of named columns.

use std::io::Write;

/// Output format of row-shaped results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading.
    Table,
    Csv,
    /// One JSON array of objects.
    Json,
}

/// A cell: text or number (NaN prints as empty in CSV, `null` in JSON, `NaN` in tables).
/// CSV and JSON keep every digit; tables are for reading: accuracies with two decimals, other
/// numbers with five significant digits (scientific beyond 1e6 or below 1e-3).
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(i64),
    Num(f64),
    /// An accuracy or an accuracy difference in percent (points).
    Acc(f64),
}

impl Cell {
    /// The full-precision text (CSV).
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Num(x) | Cell::Acc(x) if x.is_nan() => "NaN".into(),
            Cell::Num(x) | Cell::Acc(x) => format_num(*x),
        }
    }

    /// The text shown in a table.
    fn readable(&self) -> String {
        match self {
            Cell::Num(x) | Cell::Acc(x) if !x.is_finite() => self.text(),
            Cell::Acc(x) => format!("{x:.2}"),
            Cell::Num(x) => readable_num(*x),
            c => c.text(),
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Cell::Num(x) | Cell::Acc(x) => Some(*x),
            _ => None,
        }
    }
}

/// Shortest round-tripping text of a float, so nothing printed loses precision.
fn format_num(x: f64) -> String {
    format!("{x}")
}

/// Five significant digits: plain between 1e-3 and 1e6, scientific outside.
fn readable_num(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || x.fract() == 0.0 && a < 1e6 {
        return format!("{x}");
    }
    if !(1e-3..1e6).contains(&a) {
        return format!("{x:.4e}");
    }
    let decimals = (4 - a.log10().floor() as i32).clamp(0, 7) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `rows` under `header` in `format` to stdout.
pub fn print_rows(format: Format, header: &[String], rows: &[Vec<Cell>]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    write_rows(stdout.lock(), format, header, rows)
}

/// Writes `rows` under `header` in `format` to `w`.
pub fn write_rows(
    w: impl Write,
    format: Format,
    header: &[String],
    rows: &[Vec<Cell>],
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(w);
    match format {
        Format::Csv => {
            writeln!(
                out,
                "{}",
                header
                    .iter()
                    .map(|h| csv_escape(h))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
            for r in rows {
                let line: Vec<String> = r
                    .iter()
                    .map(|c| match c.number() {
                        Some(x) if x.is_nan() => String::new(),
                        _ => csv_escape(&c.text()),
                    })
                    .collect();
                writeln!(out, "{}", line.join(","))?;
            }
        }
        Format::Json => {
            let arr: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let obj: serde_json::Map<String, serde_json::Value> = header
                        .iter()
                        .zip(r)
                        .map(|(h, c)| {
                            let v = match c {
                                Cell::Text(s) => serde_json::Value::String(s.clone()),
                                Cell::Int(i) => serde_json::Value::from(*i),
                                Cell::Num(x) | Cell::Acc(x) => serde_json::Number::from_f64(*x)
                                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                            };
                            (h.clone(), v)
                        })
                        .collect();
                    serde_json::Value::Object(obj)
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &arr)?;
            writeln!(out)?;
        }
        Format::Table => {
            let texts: Vec<Vec<String>> = rows
                .iter()
                .map(|r| r.iter().map(Cell::readable).collect())
                .collect();
            let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
            for r in &texts {
                for (w, c) in width.iter_mut().zip(r) {
                    *w = (*w).max(c.len());
                }
            }
            let line = |cells: &[String]| -> String {
                cells
                    .iter()
                    .zip(&width)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            writeln!(out, "{}", line(header))?;
            for r in &texts {
                writeln!(out, "{}", line(r))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_for_reading_and_csv_keeps_every_digit() {
        assert_eq!(Cell::Acc(94.30694039475404).readable(), "94.31");
        assert_eq!(Cell::Acc(0.10441828424912153).readable(), "0.10");
        assert_eq!(readable_num(1.0977706048569498e44), "1.0978e44");
        assert_eq!(readable_num(-21.900424877774434), "-21.9");
        assert_eq!(readable_num(0.129306), "0.12931");
        assert_eq!(readable_num(4.0), "4");
        assert_eq!(readable_num(2.5e-5), "2.5000e-5");
        let mut csv = Vec::new();
        write_rows(
            &mut csv,
            Format::Csv,
            &["a".into(), "b".into()],
            &[vec![Cell::Acc(94.30694039475404), Cell::Acc(f64::NAN)]],
        )
        .unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "a,b\n94.30694039475404,\n");
    }
}
