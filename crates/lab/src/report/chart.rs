//! Chart specifications: plain data the Rust side serialises into a report page and
//! `assets/report.js` draws with uPlot. Nothing here knows about stress results; the builders
//! in `figures.rs` fill these from the aggregate.

use serde::Serialize;

/// How values on an axis are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// US dollars, shortened (12.5k, 3M).
    Usd,
    /// A fraction written as a percentage.
    Percent,
    /// A plain count.
    Count,
    /// A price in USD, with as many decimals as its size needs.
    Price,
}

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Lines over a continuous x axis.
    Line,
    /// Bars over labelled categories (`x_labels`).
    Bars,
}

/// The x axis: elapsed time since the start of the run, or categories.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XAxis {
    /// Axis title, e.g. "hours since start" or "bad debt per path (USD)".
    pub label: String,
    /// `Some(unix seconds of x = 0)` when the run replays dated data: the axis shows UTC dates.
    pub start_unix_s: Option<f64>,
    /// Seconds per x unit (3600 for hours, 86 400 for days) when the axis is dated.
    pub unit_s: f64,
}

/// One series: a label, a colour and one value per x (None where undefined).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub label: String,
    pub color: String,
    pub values: Vec<Option<f64>>,
    /// Drawn as a filled area to the series named by `fill_to` (index into the chart's series).
    pub fill_to: Option<usize>,
    pub dashed: bool,
    /// Draw the points only, no line (scatter).
    pub points_only: bool,
    /// Join the line across missing values.
    pub span_gaps: bool,
    /// Line width in CSS pixels (None: the page's default).
    pub width: Option<f64>,
}

impl Series {
    pub fn line(label: impl Into<String>, color: &str, values: Vec<Option<f64>>) -> Self {
        Self {
            label: label.into(),
            color: color.into(),
            values,
            fill_to: None,
            dashed: false,
            points_only: false,
            span_gaps: false,
            width: None,
        }
    }

    pub fn finite(label: impl Into<String>, color: &str, values: &[f64]) -> Self {
        let v = values.iter().map(|x| x.is_finite().then_some(*x)).collect();
        Self::line(label, color, v)
    }

    pub fn filled_to(mut self, other: usize) -> Self {
        self.fill_to = Some(other);
        self
    }

    pub fn points_only(mut self) -> Self {
        self.points_only = true;
        self
    }

    pub fn span_gaps(mut self) -> Self {
        self.span_gaps = true;
        self
    }

    pub fn width(mut self, px: f64) -> Self {
        self.width = Some(px);
        self
    }

    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }

    /// Number of points this series can draw.
    pub fn points(&self) -> usize {
        self.values.iter().filter(|v| v.is_some()).count()
    }
}

/// A vertical marker: an event on the time axis (first halt, first bad debt), or with `to_x` a
/// shaded span (a fault window).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Marker {
    pub x: f64,
    /// End of the span, when the marker is a window.
    pub to_x: Option<f64>,
    pub label: String,
    pub color: String,
}

impl Marker {
    /// A line at `x`.
    pub fn at(x: f64, label: impl Into<String>, color: &str) -> Self {
        Self {
            x,
            to_x: None,
            label: label.into(),
            color: color.into(),
        }
    }

    /// A shaded span over `[x, to_x]`.
    pub fn span(x: f64, to_x: f64, label: impl Into<String>, color: &str) -> Self {
        Self {
            to_x: Some(to_x),
            ..Self::at(x, label, color)
        }
    }
}

/// One chart of a report page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub x_axis: XAxis,
    /// The x values (elapsed time in the axis unit, or category index for bars).
    pub x: Vec<f64>,
    /// Category labels for bar charts (one per x).
    pub x_labels: Vec<String>,
    pub y_label: String,
    pub y_unit: Unit,
    /// Logarithmic y axis (only when every drawn value is positive).
    pub y_log: bool,
    pub series: Vec<Series>,
    pub markers: Vec<Marker>,
    /// A sentence under the chart saying how to read it.
    pub note: String,
}

impl Chart {
    /// True when at least one series has at least one point: the browser test requires it.
    pub fn has_data(&self) -> bool {
        !self.x.is_empty() && self.series.iter().any(|s| s.points() > 0)
    }
}

/// Colours of the categorical palette (Tableau 10), in order.
pub const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];
