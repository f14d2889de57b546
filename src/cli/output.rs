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
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(i64),
    Num(f64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Num(x) if x.is_nan() => "NaN".into(),
            Cell::Num(x) => format_num(*x),
        }
    }
}

/// Shortest round-tripping text of a float, so nothing printed loses precision.
fn format_num(x: f64) -> String {
    format!("{x}")
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
                    .map(|c| match c {
                        Cell::Num(x) if x.is_nan() => String::new(),
                        c => csv_escape(&c.text()),
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
                                Cell::Num(x) => serde_json::Number::from_f64(*x)
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
                .map(|r| r.iter().map(Cell::text).collect())
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
