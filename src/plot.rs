//! PNG charts in pure Rust: scatter plots, line panels and horizontal bars.
//!
//! Drawn by plotters' bitmap backend into memory, encoded by the `png` crate, written in one
//! go. Text uses the bundled DejaVu Sans (`assets/fonts/`, Bitstream Vera license), registered
//! with plotters' `ab_glyph` renderer, so no system font, fontconfig or C library is needed and
//! a chart looks the same on every machine. Built with the `plot` cargo feature (part of `cli`).
//!
//! Each function takes a spec of plain data, checks it (finite values, something to draw, a
//! sensible size) and writes one PNG of `spec.size` pixels (default [`DEFAULT_SIZE`],
//! 900 × 700); errors are [`PlotError`]s with one-line messages.
//!
//! | function | chart |
//! |---|---|
//! | [`scatter`] | x–y chart of one or more [`Series`] (points, lines or both), optional y = x line |
//! | [`lines`] | side-by-side x–y [`Panel`]s sharing an x axis (e.g. metrics per repeat) |
//! | [`bars`] | horizontal bars, one per named value, in the given order (top first) |
//!
//! # Example: accuracy against energy with a Pareto front
//!
//! ```no_run
//! use greenfactory::plot::{scatter, Legend, ScatterSpec, Series};
//!
//! let candidates = vec![(1.2, 91.0), (0.4, 88.5), (2.5, 93.1), (0.9, 87.0)];
//! let front = vec![(0.4, 88.5), (1.2, 91.0), (2.5, 93.1)];
//! let spec = ScatterSpec {
//!     title: "cifar10: predicted accuracy vs energy".into(),
//!     x_label: "energy per inference (mJ)".into(),
//!     y_label: "predicted test accuracy (%)".into(),
//!     series: vec![
//!         Series::points("candidates", candidates),
//!         Series::points_and_line("Pareto front", front),
//!     ],
//!     legend: Legend::LowerRight,
//!     ..ScatterSpec::default()
//! };
//! scatter("pareto.png".as_ref(), &spec)?;
//! # Ok::<(), greenfactory::plot::PlotError>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

/// Width × height in pixels of a chart whose spec does not say otherwise.
pub const DEFAULT_SIZE: (u32, u32) = (900, 700);

/// Smallest accepted chart size (below it labels cannot fit).
pub const MIN_SIZE: (u32, u32) = (300, 200);

/// Largest accepted chart size (the picture is drawn in memory, 3 bytes a pixel).
pub const MAX_SIZE: (u32, u32) = (8000, 8000);

/// The font family every chart uses; the bundled DejaVu Sans is registered under this name.
const FAMILY: &str = "sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Series colours, in order (matplotlib's "tab10", readable on white and for most colour
/// vision deficiencies in its first few entries).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of series `i` (the palette repeats after 10).
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Everything that can go wrong while plotting; each message is one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: PNG encoding: {message}")]
    Encode { path: PathBuf, message: String },
    #[error("chart {title:?}: drawing: {message}")]
    Draw { title: String, message: String },
    #[error("chart {title:?}: nothing to draw ({what})")]
    Empty { title: String, what: String },
    #[error("chart {title:?}: non-finite value {value} in {what}")]
    NonFinite {
        title: String,
        what: String,
        value: f64,
    },
    #[error("chart {title:?}: size {width}x{height} outside {min_w}x{min_h}..={max_w}x{max_h} pixels", min_w = MIN_SIZE.0, min_h = MIN_SIZE.1, max_w = MAX_SIZE.0, max_h = MAX_SIZE.1)]
    Size {
        title: String,
        width: u32,
        height: u32,
    },
    #[error("the bundled font could not be loaded")]
    Font,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mark {
    /// A small translucent dot per point (for thousands of points).
    #[default]
    Points,
    /// A line through the points in their order.
    Line,
    /// A line through the points in their order, with a marker on each.
    PointsAndLine,
}

/// One named set of points; its colour is [`series_color`] of its position in the chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend entry (an empty name leaves the series out of the legend).
    pub name: String,
    /// `(x, y)` in data units, drawn in this order.
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
}

impl Series {
    /// A series drawn as dots.
    pub fn points(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            mark: Mark::Points,
        }
    }

    /// A series drawn as a line through the points in their order.
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            mark: Mark::Line,
        }
    }

    /// A series drawn as a line with a marker on each point.
    pub fn points_and_line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            mark: Mark::PointsAndLine,
        }
    }
}

/// Where the legend box goes, inside the plotting area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Legend {
    #[default]
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
    /// No legend.
    None,
}

/// An x–y chart: [`scatter`]'s input.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterSpec {
    /// Caption above the chart.
    pub title: String,
    /// Axis descriptions; give units, e.g. "true test accuracy (%)".
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Draw the y = x line and give both axes the same range (predicted against true).
    pub diagonal: bool,
    pub legend: Legend,
    /// Width × height in pixels.
    pub size: (u32, u32),
}

impl Default for ScatterSpec {
    fn default() -> Self {
        ScatterSpec {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            series: Vec::new(),
            diagonal: false,
            legend: Legend::UpperLeft,
            size: DEFAULT_SIZE,
        }
    }
}

/// One panel of [`lines`]: a y axis and its series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    /// The panel's caption (small, above it); may be empty.
    pub title: String,
    /// The y axis description, with units.
    pub y_label: String,
    pub series: Vec<Series>,
}

/// Panels side by side sharing an x description: [`lines`]' input.
#[derive(Debug, Clone, PartialEq)]
pub struct LinesSpec {
    /// Caption above all panels.
    pub title: String,
    /// The x axis description of every panel.
    pub x_label: String,
    pub panels: Vec<Panel>,
    pub legend: Legend,
    /// Width × height in pixels of the whole picture.
    pub size: (u32, u32),
}

impl Default for LinesSpec {
    fn default() -> Self {
        LinesSpec {
            title: String::new(),
            x_label: String::new(),
            panels: Vec::new(),
            legend: Legend::LowerRight,
            size: DEFAULT_SIZE,
        }
    }
}

/// Horizontal bars: [`bars`]' input.
#[derive(Debug, Clone, PartialEq)]
pub struct BarsSpec {
    pub title: String,
    /// The value axis description, with units.
    pub value_label: String,
    /// `(name, value)`, drawn top to bottom in this order (see [`top_k`]). Values must be
    /// finite and ≥ 0.
    pub bars: Vec<(String, f64)>,
    /// Width × height in pixels.
    pub size: (u32, u32),
}

impl Default for BarsSpec {
    fn default() -> Self {
        BarsSpec {
            title: String::new(),
            value_label: String::new(),
            bars: Vec::new(),
            size: DEFAULT_SIZE,
        }
    }
}

/// The `k` largest `values` with their `names`, largest first (ties keep name order;
/// non-finite values sort last). For [`BarsSpec::bars`].
pub fn top_k(names: &[String], values: &[f64], k: usize) -> Vec<(String, f64)> {
    let mut idx: Vec<usize> = (0..names.len().min(values.len())).collect();
    idx.sort_by(|&a, &b| {
        let key = |v: f64| if v.is_finite() { v } else { f64::NEG_INFINITY };
        key(values[b]).total_cmp(&key(values[a]))
    });
    idx.into_iter()
        .take(k)
        .map(|i| (names[i].clone(), values[i]))
        .collect()
}

/// Writes an x–y chart of `spec.series` to `path` (PNG).
pub fn scatter(path: &Path, spec: &ScatterSpec) -> Result<(), PlotError> {
    let title = &spec.title;
    check_size(title, spec.size)?;
    check_series(title, &spec.series)?;
    render(path, title, spec.size, |root| {
        let root = root.titled(title, (FAMILY, 26))?;
        draw_xy(
            &root,
            XyChart {
                caption: "",
                x_label: &spec.x_label,
                y_label: &spec.y_label,
                series: &spec.series,
                diagonal: spec.diagonal,
                legend: spec.legend,
            },
        )
    })
}

/// Writes `spec.panels` side by side, each an x–y chart with its own y range, to `path` (PNG).
pub fn lines(path: &Path, spec: &LinesSpec) -> Result<(), PlotError> {
    let title = &spec.title;
    check_size(title, spec.size)?;
    if spec.panels.is_empty() {
        return Err(PlotError::Empty {
            title: title.clone(),
            what: "no panels".into(),
        });
    }
    for p in &spec.panels {
        check_series(title, &p.series)?;
    }
    render(path, title, spec.size, |root| {
        let root = root.titled(title, (FAMILY, 26))?;
        let areas = root.split_evenly((1, spec.panels.len()));
        for (area, p) in areas.iter().zip(&spec.panels) {
            draw_xy(
                area,
                XyChart {
                    caption: &p.title,
                    x_label: &spec.x_label,
                    y_label: &p.y_label,
                    series: &p.series,
                    diagonal: false,
                    legend: spec.legend,
                },
            )?;
        }
        Ok(())
    })
}

/// Writes horizontal bars of `spec.bars` (first on top, value printed at each bar's end) to
/// `path` (PNG).
pub fn bars(path: &Path, spec: &BarsSpec) -> Result<(), PlotError> {
    let title = &spec.title;
    check_size(title, spec.size)?;
    if spec.bars.is_empty() {
        return Err(PlotError::Empty {
            title: title.clone(),
            what: "no bars".into(),
        });
    }
    for (name, v) in &spec.bars {
        if !v.is_finite() || *v < 0.0 {
            return Err(PlotError::NonFinite {
                title: title.clone(),
                what: format!("bar {name:?} (bars must be finite and >= 0)"),
                value: *v,
            });
        }
    }
    render(path, title, spec.size, |root| {
        let root = root.titled(title, (FAMILY, 26))?;
        let n = spec.bars.len();
        let name_px = (spec.size.1 as f64 * 0.6 / n as f64).clamp(9.0, 16.0);
        let name_style =
            TextStyle::from((FAMILY, name_px).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
        let widest = spec
            .bars
            .iter()
            .map(|(name, _)| root.estimate_text_size(name, &name_style).map(|s| s.0))
            .try_fold(0u32, |m, w| w.map(|w| m.max(w)))?;
        let max = spec.bars.iter().map(|b| b.1).fold(0.0, f64::max);
        let x_max = if max > 0.0 { max * 1.15 } else { 1.0 };
        let mut chart = ChartBuilder::on(&root)
            .margin(15)
            .margin_right(30)
            .x_label_area_size(60)
            .y_label_area_size(widest + 16)
            .build_cartesian_2d(0.0..x_max, 0.0..n as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&|v| format_tick(*v))
            .x_desc(spec.value_label.as_str())
            .axis_desc_style((FAMILY, 20))
            .label_style((FAMILY, 16))
            .draw()?;
        let value_style = TextStyle::from((FAMILY, name_px * 0.9).into_font())
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (rank, (name, v)) in spec.bars.iter().enumerate() {
            let top = (n - rank) as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, top - 0.15), (*v, top - 0.85)],
                series_color(0).filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!(" {}", format_value(*v)),
                (*v, top - 0.5),
                value_style.clone(),
            )))?;
            // Backend pixels, made relative to the area below the title.
            let (px, py) = chart.backend_coord(&(0.0, top - 0.5));
            let (bx, by) = root.get_base_pixel();
            root.draw(&Text::new(
                name.clone(),
                (px - bx - 8, py - by),
                name_style.clone(),
            ))?;
        }
        Ok(())
    })
}

/// A tick label: the number without trailing zeros ("45", "0.3", "1.25").
fn format_tick(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// A bar's value: 3 significant digits.
fn format_value(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

fn check_size(title: &str, (w, h): (u32, u32)) -> Result<(), PlotError> {
    if w < MIN_SIZE.0 || h < MIN_SIZE.1 || w > MAX_SIZE.0 || h > MAX_SIZE.1 {
        return Err(PlotError::Size {
            title: title.into(),
            width: w,
            height: h,
        });
    }
    Ok(())
}

fn check_series(title: &str, series: &[Series]) -> Result<(), PlotError> {
    if series.iter().all(|s| s.points.is_empty()) {
        return Err(PlotError::Empty {
            title: title.into(),
            what: "no points".into(),
        });
    }
    for s in series {
        for (i, &(x, y)) in s.points.iter().enumerate() {
            for v in [x, y] {
                if !v.is_finite() {
                    return Err(PlotError::NonFinite {
                        title: title.into(),
                        what: format!("series {:?}, point {i}", s.name),
                        value: v,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Registers the bundled font with plotters, once per process.
fn register_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawResult = Result<(), DrawError>;

/// A drawing error as text (plotters' error types are generic over the backend).
struct DrawError(String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        DrawError(e.to_string())
    }
}

/// Draws with `draw` on a white RGB canvas of `size` in memory and writes it as a PNG.
fn render(
    path: &Path,
    title: &str,
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> DrawResult,
) -> Result<(), PlotError> {
    register_font()?;
    let (w, h) = size;
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(DrawError::from)
            .and_then(|_| draw(&root))
            .and_then(|_| root.present().map_err(DrawError::from));
        drawn.map_err(|e| PlotError::Draw {
            title: title.into(),
            message: e.0,
        })?;
    }
    write_png(path, w, h, &buf)
}

fn write_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<(), PlotError> {
    let io = |source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let encode = |e: png::EncodingError| match e {
        png::EncodingError::IoError(source) => io(source),
        e => PlotError::Encode {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(encode)?;
    writer.write_image_data(rgb).map_err(encode)?;
    writer.finish().map_err(encode)
}

struct XyChart<'s> {
    caption: &'s str,
    x_label: &'s str,
    y_label: &'s str,
    series: &'s [Series],
    diagonal: bool,
    legend: Legend,
}

/// The data range of `values`, padded by 5 % (a single value gets ±1 or ±5 % of itself).
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.05
    } else if lo != 0.0 {
        lo.abs() * 0.05
    } else {
        1.0
    };
    (lo - pad, hi + pad)
}

fn draw_xy(area: &Area, c: XyChart) -> DrawResult {
    let points = || c.series.iter().flat_map(|s| s.points.iter());
    let (mut x_range, mut y_range) = (
        padded_range(points().map(|p| p.0)),
        padded_range(points().map(|p| p.1)),
    );
    if c.diagonal {
        let both = (x_range.0.min(y_range.0), x_range.1.max(y_range.1));
        x_range = both;
        y_range = both;
    }
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(12)
        .margin_right(25)
        .x_label_area_size(60)
        .y_label_area_size(80);
    if !c.caption.is_empty() {
        builder.caption(c.caption, (FAMILY, 20));
    }
    let mut chart = builder.build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
    // Whole-number x values (repeats, folds, counts) get whole-number ticks only.
    let integer_x = points().all(|p| p.0.fract() == 0.0);
    let x_ticks = if integer_x {
        ((x_range.1 - x_range.0).floor() as usize + 1).clamp(2, 10)
    } else {
        10
    };
    let x_format = move |v: &f64| {
        if integer_x && v.fract() != 0.0 {
            String::new()
        } else {
            format_tick(*v)
        }
    };
    chart
        .configure_mesh()
        .x_labels(x_ticks)
        .x_label_formatter(&x_format)
        .y_label_formatter(&|v| format_tick(*v))
        .x_desc(c.x_label)
        .y_desc(c.y_label)
        .axis_desc_style((FAMILY, 20))
        .label_style((FAMILY, 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    if c.diagonal {
        chart
            .draw_series(LineSeries::new(
                [(x_range.0, x_range.0), (x_range.1, x_range.1)],
                BLACK.stroke_width(1),
            ))?
            .label("y = x")
            .legend(|(x, y)| PathElement::new([(x - 10, y), (x + 10, y)], BLACK));
    }
    // Many dots: small and translucent so that dense regions show.
    let n_points: usize = c.series.iter().map(|s| s.points.len()).sum();
    let (radius, alpha) = match n_points {
        0..=200 => (4, 0.9),
        201..=2000 => (3, 0.6),
        _ => (2, 0.45),
    };
    for (i, s) in c.series.iter().enumerate() {
        let color = series_color(i);
        let drawn = match s.mark {
            Mark::Points => chart.draw_series(
                s.points
                    .iter()
                    .map(|&p| Circle::new(p, radius, color.mix(alpha).filled())),
            )?,
            Mark::Line => chart.draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(2),
            ))?,
            Mark::PointsAndLine => {
                chart.draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))?;
                chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 5, color.filled())))?
            }
        };
        if !s.name.is_empty() {
            let (line, dot) = match s.mark {
                Mark::Points => (false, true),
                Mark::Line => (true, false),
                Mark::PointsAndLine => (true, true),
            };
            drawn.label(s.name.as_str()).legend(move |(x, y)| {
                let line_style = if line {
                    color.stroke_width(2)
                } else {
                    TRANSPARENT.stroke_width(0)
                };
                let dot_style = if dot {
                    color.filled()
                } else {
                    TRANSPARENT.filled()
                };
                EmptyElement::at((x, y))
                    + PathElement::new([(-10, 0), (10, 0)], line_style)
                    + Circle::new((0, 0), 5, dot_style)
            });
        }
    }
    let position = match c.legend {
        Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
        Legend::UpperRight => SeriesLabelPosition::UpperRight,
        Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
        Legend::LowerRight => SeriesLabelPosition::LowerRight,
        Legend::None => return Ok(()),
    };
    if c.diagonal || c.series.iter().any(|s| !s.name.is_empty()) {
        chart
            .configure_series_labels()
            .position(position)
            .margin(12)
            .label_font((FAMILY, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
    }
    Ok(())
}
