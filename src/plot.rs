//! Plots drawn with plotters' SVG backend (text uses generic font families; no system fonts
//! are read).
//!
//! - [`loss_curve`]: one or more series against the iteration number (the training curve);
//! - [`entropy_profile`]: the entanglement entropy across every cut of the chain;
//! - [`counts_histogram`]: measurement counts as bars.

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

fn plot_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Draws `series` (name, value per iteration) as lines into an SVG file at `path`.
pub fn loss_curve(
    path: &Path,
    title: &str,
    y_label: &str,
    series: &[(&str, &[f64])],
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| plot_error(path, e);
    let finite = || {
        series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|v| v.is_finite())
    };
    let (mut lo, mut hi) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let pad = 0.05 * (hi - lo);
    let len = series
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(0)
        .max(2);
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..(len - 1) as f64, (lo - pad)..(hi + pad))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc(y_label)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| err(&e))?;
    for (k, (name, values)) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, &v)| (i as f64, v));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    drop(chart);
    drop(root);
    crate::atomic::write_atomic(path, svg.as_bytes())
}

/// Draws the entanglement entropy across each cut `{0..k−1} | {k..n−1}` (`profile[k−1]`, as
/// [`crate::entropy::Entanglement::profile`] returns it) with the largest possible value
/// `min(k, n − k) log 2` as a dashed reference, into an SVG file at `path`.
pub fn entropy_profile(path: &Path, profile: &[f64], base: crate::entropy::LogBase) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| plot_error(path, e);
    let n = profile.len() + 1;
    let bound: Vec<(f64, f64)> = (1..n)
        .map(|k| (k as f64, base.log(2.0) * k.min(n - k) as f64))
        .collect();
    let top = bound
        .iter()
        .map(|b| b.1)
        .chain(profile.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1e-3);
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Entanglement entropy across each cut ({n} qubits)"),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0.5f64..(n as f64 - 0.5).max(1.5), 0f64..top * 1.08)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("cut k: qubits 0..k-1 | k..n-1")
        .x_labels(n.min(25))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc(format!("S ({})", base.unit()))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| err(&e))?;
    let grey = RGBColor(150, 150, 150);
    chart
        .draw_series(DashedLineSeries::new(bound, 6, 4, grey.stroke_width(1)))
        .map_err(|e| err(&e))?
        .label("maximum min(k, n-k) log 2")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
    let colour = COLOURS[0];
    let points: Vec<(f64, f64)> = profile
        .iter()
        .enumerate()
        .map(|(i, &s)| ((i + 1) as f64, s))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("S(0..k-1)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
    chart
        .draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 4, colour.filled())),
        )
        .map_err(|e| err(&e))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    drop(chart);
    drop(root);
    crate::atomic::write_atomic(path, svg.as_bytes())
}

/// Draws measurement counts as a bar chart (bitstring keys in the given order, as Qiskit keys
/// them) into an SVG file at `path`; at most `max_bars` bars, the most frequent, are shown.
pub fn counts_histogram(
    path: &Path,
    counts: &std::collections::BTreeMap<String, usize>,
    shots: usize,
    max_bars: usize,
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| plot_error(path, e);
    let mut bars: Vec<(&String, usize)> = counts.iter().map(|(k, &v)| (k, v)).collect();
    if bars.len() > max_bars {
        bars.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        bars.truncate(max_bars);
        bars.sort_by(|a, b| a.0.cmp(b.0));
    }
    let top = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64 / shots.max(1) as f64;
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Counts ({shots} shots, {} outcomes)", counts.len()),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (0usize..bars.len().max(1) - 1).into_segmented(),
            0f64..top * 1.1,
        )
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len().clamp(1, 32))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc("outcome (classical bit 0 rightmost)")
        .y_desc("probability")
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, count))| {
            let p = *count as f64 / shots.max(1) as f64;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), p),
                ],
                COLOURS[0].filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            bar
        }))
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    drop(chart);
    drop(root);
    crate::atomic::write_atomic(path, svg.as_bytes())
}
