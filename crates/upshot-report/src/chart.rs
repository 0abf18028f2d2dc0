//! Drawing chart specifications with plotters, as SVG (for HTML) and PNG
//! (1600x900, for slides). Text uses the embedded DejaVu Sans, so PNGs render
//! with no system fonts and Cyrillic campaign names come out right.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use upshot_result::format::{count, money_short, number, percent};
use upshot_result::{Chart, ChartKind, Format};

use crate::ReportError;

/// Chart size in pixels: 16:9, sharp on a 1080p slide.
pub const SIZE: (u32, u32) = (1600, 900);

/// The family name the embedded font is registered under. Browsers reading
/// the SVG fall back to their own sans-serif font under the same name.
const FAMILY: &str = "sans-serif";

static FONT_REGISTRATION: Once = Once::new();

fn register_fonts() {
    FONT_REGISTRATION.call_once(|| {
        // The bytes are a valid TrueType font shipped in this crate; if
        // registration ever failed, plotters would report a missing font when
        // drawing, which surfaces as a ReportError.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, include_bytes!("../assets/DejaVuSans.ttf"));
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, include_bytes!("../assets/DejaVuSans-Bold.ttf"));
    });
}

/// Colour-blind-friendly palette (Okabe-Ito), in series order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
    RGBColor(240, 228, 66),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Formats a y-axis value.
pub fn tick(value: f64, format: &Format, currency: &str) -> String {
    match format {
        Format::Money => money_short(value, currency),
        Format::Percent => percent(value),
        Format::Count => count(value),
        Format::Number | Format::Text => number(value, if value.abs() < 10.0 { 1 } else { 0 }),
    }
}

fn draw_err(chart: &Chart, err: impl std::fmt::Display) -> ReportError {
    ReportError::Chart { chart: chart.name.clone(), message: err.to_string() }
}

/// Draws a chart onto any plotters drawing area.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart, currency: &str) -> Result<(), ReportError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| draw_err(chart, e))?;
    let (_, height) = root.dim_in_pixel();
    // Long findings get a smaller font so the whole sentence fits the slide.
    let title_chars = chart.title.chars().count().max(1) as f64;
    let title_size = (40.0 * (68.0 / title_chars).min(1.0)).max(26.0);
    let title_font = (FAMILY, title_size).into_font().style(FontStyle::Bold).color(&RGBColor(30, 30, 30));
    let (title_area, rest) = root.split_vertically(90);
    let (plot_area, note_area) = rest.split_vertically(height - 90 - 50);
    title_area.draw(&Text::new(chart.title.clone(), (40, 30), title_font)).map_err(|e| draw_err(chart, e))?;
    let note_font = (FAMILY, 20).into_font().color(&RGBColor(110, 110, 110));
    note_area.draw(&Text::new(chart.note.clone(), (40, 12), note_font)).map_err(|e| draw_err(chart, e))?;

    if chart.kind == ChartKind::Heatmap {
        draw_heatmap(&plot_area, chart)?;
        root.present().map_err(|e| draw_err(chart, e))?;
        return Ok(());
    }
    let n = chart.categories.len().max(1);
    let values = || {
        chart
            .series
            .iter()
            .flat_map(|s| s.values.iter().chain(&s.high).flatten().copied())
            .chain(chart.reference.iter().map(|(_, v)| *v))
    };
    let y_max = match chart.kind {
        ChartKind::Lines | ChartKind::Bars | ChartKind::Intervals | ChartKind::GroupedBars | ChartKind::Heatmap => {
            values().fold(0.0f64, f64::max)
        }
        ChartKind::StackedBars => (0..n)
            .map(|i| chart.series.iter().map(|s| s.values.get(i).copied().flatten().unwrap_or(0.0).max(0.0)).sum::<f64>())
            .fold(0.0f64, f64::max),
    };
    let y_min = values().fold(0.0f64, f64::min);
    let y_min = if y_min < 0.0 { y_min * 1.12 } else { 0.0 };
    // Grouped bars carry a legend of several series in the upper left: leave it room above the bars.
    let headroom = if chart.kind == ChartKind::GroupedBars { 1.3 } else { 1.12 };
    let y_max = if y_max > 0.0 { y_max * headroom } else { 1.0 };
    // About eight x labels fit a slide without overlapping; each is cut to its share of the width
    // (about 12 px a character at the label size), ending in an ellipsis.
    let label_every = n.div_ceil(8).max(1);
    let shown = n.div_ceil(label_every).max(1);
    let plot_width = (plot_area.dim_in_pixel().0 as usize).saturating_sub(200);
    let max_chars = (plot_width / shown / 12).max(6);
    let categories: Vec<String> = chart.categories.iter().map(|c| ellipsize(c, max_chars)).collect();
    let y_format = chart.y_format.clone();
    let mut ctx = ChartBuilder::on(&plot_area)
        .margin_left(30)
        .margin_right(40)
        .margin_top(10)
        .x_label_area_size(70)
        .y_label_area_size(130)
        .build_cartesian_2d(-0.6f64..(n as f64 - 0.4), y_min..y_max)
        .map_err(|e| draw_err(chart, e))?;
    ctx.configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(RGBColor(225, 225, 225))
        .y_labels(8)
        .x_labels(n.min(60))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            let i = i as usize;
            if i.is_multiple_of(label_every) { categories.get(i).cloned().unwrap_or_default() } else { String::new() }
        })
        .y_label_formatter(&|y| tick(*y, &y_format, currency))
        .x_desc(chart.x_label.clone())
        .y_desc(chart.y_label.clone())
        .label_style((FAMILY, 22).into_font().color(&RGBColor(60, 60, 60)))
        .axis_desc_style((FAMILY, 24).into_font().color(&RGBColor(60, 60, 60)))
        .draw()
        .map_err(|e| draw_err(chart, e))?;

    // Shaded categories (on-days) go under the data.
    if chart.highlight.iter().any(|h| *h) {
        let shade = RGBColor(255, 224, 178).mix(0.55);
        let bands: Vec<Rectangle<(f64, f64)>> = chart
            .highlight
            .iter()
            .enumerate()
            .filter(|(_, on)| **on)
            .map(|(x, _)| Rectangle::new([(x as f64 - 0.5, y_min), (x as f64 + 0.5, y_max)], shade.filled()))
            .collect();
        let drawn = ctx.draw_series(bands).map_err(|e| draw_err(chart, e))?;
        if !chart.highlight_label.is_empty() && chart.kind != ChartKind::Bars {
            drawn
                .label(chart.highlight_label.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], shade.filled()));
        }
    }
    match chart.kind {
        ChartKind::Lines => {
            for (i, series) in chart.series.iter().enumerate() {
                let style = ShapeStyle::from(colour(i)).stroke_width(4);
                let points: Vec<(f64, f64)> =
                    series.values.iter().enumerate().filter_map(|(x, v)| v.map(|v| (x as f64, v))).collect();
                let drawn = if series.dashed {
                    ctx.draw_series(DashedLineSeries::new(points, 14, 9, style)).map_err(|e| draw_err(chart, e))?
                } else {
                    ctx.draw_series(LineSeries::new(points, style)).map_err(|e| draw_err(chart, e))?
                };
                drawn.label(series.name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 30, y)], ShapeStyle::from(colour(i)).stroke_width(4))
                });
            }
        }
        ChartKind::Bars => {
            if let Some(series) = chart.series.first() {
                let bars = series.values.iter().enumerate().filter_map(|(x, v)| {
                    let colour = if chart.highlight.get(x).copied().unwrap_or(false) { colour(5) } else { colour(0) };
                    v.map(|v| Rectangle::new([(x as f64 - 0.42, 0.0), (x as f64 + 0.42, v)], colour.filled()))
                });
                ctx.draw_series(bars)
                    .map_err(|e| draw_err(chart, e))?
                    .label(series.name.clone())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], colour(0).filled()));
            }
        }
        ChartKind::Intervals => {
            let get = |s: usize, x: usize| chart.series.get(s).and_then(|s| s.values.get(x).copied().flatten());
            let zero = PathElement::new(
                vec![(-0.6, 0.0), (n as f64 - 0.4, 0.0)],
                ShapeStyle::from(RGBColor(120, 120, 120)).stroke_width(2),
            );
            ctx.draw_series(std::iter::once(zero)).map_err(|e| draw_err(chart, e))?;
            let mut whiskers = Vec::new();
            let mut points = Vec::new();
            for x in 0..n {
                if let (Some(low), Some(high)) = (get(1, x), get(2, x)) {
                    let xf = x as f64;
                    whiskers.push(PathElement::new(vec![(xf, low), (xf, high)], ShapeStyle::from(colour(0)).stroke_width(5)));
                    whiskers.push(PathElement::new(
                        vec![(xf - 0.12, low), (xf + 0.12, low)],
                        ShapeStyle::from(colour(0)).stroke_width(4),
                    ));
                    whiskers.push(PathElement::new(
                        vec![(xf - 0.12, high), (xf + 0.12, high)],
                        ShapeStyle::from(colour(0)).stroke_width(4),
                    ));
                }
                if let Some(estimate) = get(0, x) {
                    points.push(Circle::new((x as f64, estimate), 11, colour(5).filled()));
                }
            }
            ctx.draw_series(whiskers).map_err(|e| draw_err(chart, e))?;
            let label = chart.series.first().map(|s| s.name.clone()).unwrap_or_default();
            ctx.draw_series(points)
                .map_err(|e| draw_err(chart, e))?
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 12, y), 8, colour(5).filled()));
        }
        ChartKind::GroupedBars => {
            let groups = chart.series.len().max(1) as f64;
            let width = 0.8 / groups;
            for (i, series) in chart.series.iter().enumerate() {
                let left = |x: usize| x as f64 - 0.4 + width * i as f64;
                let bars = series.values.iter().enumerate().filter_map(|(x, v)| {
                    v.map(|v| Rectangle::new([(left(x) + 0.01, 0.0), (left(x) + width - 0.01, v)], colour(i).filled()))
                });
                ctx.draw_series(bars)
                    .map_err(|e| draw_err(chart, e))?
                    .label(series.name.clone())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], colour(i).filled()));
                let mut whiskers = Vec::new();
                for x in 0..series.values.len() {
                    let ends = (series.low.get(x).copied().flatten(), series.high.get(x).copied().flatten());
                    if let (Some(low), Some(high)) = ends {
                        let centre = left(x) + width / 2.0;
                        let style = ShapeStyle::from(RGBColor(40, 40, 40)).stroke_width(3);
                        whiskers.push(PathElement::new(vec![(centre, low), (centre, high)], style));
                        whiskers.push(PathElement::new(vec![(centre - width / 4.0, low), (centre + width / 4.0, low)], style));
                        whiskers.push(PathElement::new(vec![(centre - width / 4.0, high), (centre + width / 4.0, high)], style));
                    }
                }
                ctx.draw_series(whiskers).map_err(|e| draw_err(chart, e))?;
            }
        }
        ChartKind::Heatmap => {}
        ChartKind::StackedBars => {
            let mut base = vec![0.0f64; n];
            for (i, series) in chart.series.iter().enumerate() {
                let fill = series.colour.map_or_else(|| colour(i), |[r, g, b]| RGBColor(r, g, b));
                let mut bars = Vec::new();
                for (x, value) in series.values.iter().enumerate() {
                    let value = value.unwrap_or(0.0).max(0.0);
                    if value > 0.0 && x < n {
                        let xf = x as f64;
                        bars.push(Rectangle::new([(xf - 0.38, base[x]), (xf + 0.38, base[x] + value)], fill.filled()));
                        base[x] += value;
                    }
                }
                ctx.draw_series(bars)
                    .map_err(|e| draw_err(chart, e))?
                    .label(series.name.clone())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], fill.filled()));
            }
        }
    }
    if let Some((label, value)) = &chart.reference {
        let style = ShapeStyle::from(RGBColor(200, 40, 40)).stroke_width(3);
        let line = DashedLineSeries::new(vec![(-0.6, *value), (n as f64 - 0.4, *value)], 16, 10, style);
        ctx.draw_series(line)
            .map_err(|e| draw_err(chart, e))?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], style));
    }
    if !chart.series.is_empty() {
        ctx.configure_series_labels()
            .position(if chart.kind == ChartKind::StackedBars {
                SeriesLabelPosition::UpperRight
            } else {
                SeriesLabelPosition::UpperLeft
            })
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FAMILY, 22).into_font())
            .draw()
            .map_err(|e| draw_err(chart, e))?;
    }
    root.present().map_err(|e| draw_err(chart, e))?;
    Ok(())
}

/// `text` cut to `max` characters, the last one an ellipsis when anything was cut.
fn ellipsize(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A matrix of shares: rows are the series, columns the categories; each cell is
/// shaded from white (0%) to the palette's blue (100%) and carries its percentage.
fn draw_heatmap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), ReportError>
where
    DB::ErrorType: 'static,
{
    let columns = chart.categories.len().max(1);
    let rows = chart.series.len().max(1);
    let row_names: Vec<String> = chart.series.iter().map(|s| s.name.clone()).collect();
    let column_names = chart.categories.clone();
    let mut ctx = ChartBuilder::on(area)
        .margin_left(30)
        .margin_right(40)
        .margin_top(10)
        .x_label_area_size(70)
        .y_label_area_size(220)
        .build_cartesian_2d(-0.5f64..(columns as f64 - 0.5), -0.5f64..(rows as f64 - 0.5))
        .map_err(|e| draw_err(chart, e))?;
    let label = |names: &[String], v: f64| {
        let i = v.round();
        if (v - i).abs() > 1e-6 || i < 0.0 { String::new() } else { names.get(i as usize).cloned().unwrap_or_default() }
    };
    ctx.configure_mesh()
        .disable_mesh()
        .x_labels(columns * 2 + 1)
        .y_labels(rows * 2 + 1)
        .x_label_formatter(&|x| label(&column_names, *x))
        // Row 0 is drawn at the top.
        .y_label_formatter(&|y| label(&row_names, rows as f64 - 1.0 - *y))
        .x_desc(chart.x_label.clone())
        .y_desc(chart.y_label.clone())
        .label_style((FAMILY, 22).into_font().color(&RGBColor(60, 60, 60)))
        .axis_desc_style((FAMILY, 24).into_font().color(&RGBColor(60, 60, 60)))
        .draw()
        .map_err(|e| draw_err(chart, e))?;
    let base = colour(0);
    let marked = colour(1);
    let top = chart.series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0f64, |m, v| m.max(*v)).max(1e-12);
    // Cell labels shrink as columns multiply so that `≈12.5%` stays inside its cell.
    let label_size = match columns {
        0..=8 => 26,
        9..=12 => 22,
        _ => 18,
    };
    let mut cells = Vec::new();
    let mut labels = Vec::new();
    for (r, series) in chart.series.iter().enumerate() {
        let y = (rows - 1 - r) as f64;
        for (x, value) in series.values.iter().enumerate().take(columns) {
            // Shade relative to the largest cell, so that a matrix of small shares still reads.
            let share = (value.unwrap_or(0.0) / top).clamp(0.0, 1.0);
            let projected = series.marked.get(x).copied().unwrap_or(false);
            let tint = if projected { marked } else { base };
            let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * share).round() as u8;
            let fill = RGBColor(mix(tint.0), mix(tint.1), mix(tint.2));
            let xf = x as f64;
            cells.push(Rectangle::new([(xf - 0.48, y - 0.46), (xf + 0.48, y + 0.46)], fill.filled()));
            if let Some(v) = value {
                let ink = if share > 0.55 { WHITE } else { RGBColor(30, 30, 30) };
                let style = (FAMILY, label_size).into_font().color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                let text = if projected { format!("≈{}", percent(*v)) } else { percent(*v) };
                labels.push(Text::new(text, (xf, y), style));
            }
        }
    }
    ctx.draw_series(cells).map_err(|e| draw_err(chart, e))?;
    ctx.draw_series(labels).map_err(|e| draw_err(chart, e))?;
    Ok(())
}

/// Renders a chart as an SVG document.
pub fn svg(chart: &Chart, currency: &str) -> Result<String, ReportError> {
    register_fonts();
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, chart, currency)?;
    }
    Ok(text)
}

/// Renders a chart as a 1600x900 PNG file: drawn in memory, encoded (the PNG encoder plotters itself
/// uses), then written, so a write error (a full disk) names the file.
pub fn png(chart: &Chart, currency: &str, path: &Path) -> Result<(), ReportError> {
    use image::ImageEncoder;
    register_fonts();
    let mut pixels = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        draw(&root, chart, currency)?;
    }
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(&pixels, SIZE.0, SIZE.1, image::ColorType::Rgb8)
        .map_err(|e| ReportError::Chart { chart: chart.name.clone(), message: e.to_string() })?;
    std::fs::write(path, bytes).map_err(crate::io_err(path))
}

#[cfg(test)]
mod tests {
    use upshot_result::Series;

    use super::*;

    fn sample(kind: ChartKind) -> Chart {
        Chart::new(kind, "weekly", "Реклама на YouTube: новых клиентов +12%")
            .note("Source: orders.parquet, 2025-01-06 to 2025-03-31")
            .axes("week", "spend (USD)", Format::Money)
            .categories((1..=12).map(|w| format!("2025-W{w:02}")).collect())
            .series(vec![
                Series::new("google_search", (0..12).map(|i| Some(1000.0 + 50.0 * i as f64)).collect()),
                Series {
                    dashed: true,
                    ..Series::new("ютуб", (0..12).map(|i| if i == 3 { None } else { Some(400.0) }).collect())
                },
            ])
            .table("weekly")
            .highlight((0..12).map(|i| i % 2 == 0).collect(), "on")
    }

    #[test]
    fn long_labels_are_cut_by_characters_with_an_ellipsis() {
        assert_eq!(ellipsize("video_0302", 12), "video_0302");
        assert_eq!(ellipsize("influencer_anna_codes (post)", 12), "influencer_…");
        assert_eq!(ellipsize("аналитика данных certificate", 10), "аналитика…");
    }

    #[test]
    fn svg_has_title_and_cyrillic_text() {
        let text = svg(&sample(ChartKind::Lines), "USD").expect("renders");
        assert!(text.starts_with("<svg"));
        assert!(text.contains("Реклама на YouTube"));
        assert!(text.contains("$1k") || text.contains("$1.2k"), "money ticks with currency");
    }

    #[test]
    fn grouped_bars_heatmap_and_reference_lines_render() {
        let mut chart = sample(ChartKind::GroupedBars);
        chart.series[0] = chart.series[0].clone().with_interval(vec![Some(900.0); 12], vec![Some(1800.0); 12]);
        chart.reference = Some(("target $1,500".into(), 1500.0));
        let text = svg(&chart, "USD").expect("renders");
        assert!(text.contains("target $1,500"));
        let mut heat = sample(ChartKind::Heatmap);
        heat.series =
            vec![Series::new("google_search", vec![Some(0.9), Some(0.1)]), Series::new("organic", vec![Some(0.25), Some(0.75)])];
        heat.categories = vec!["google_search".into(), "organic".into()];
        let text = svg(&heat, "USD").expect("renders");
        assert!(text.contains("90%") && text.contains("75%"), "cells carry their shares");
    }

    #[test]
    fn png_renders_without_system_fonts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chart.png");
        png(&sample(ChartKind::StackedBars), "USD", &path).expect("renders");
        let bytes = std::fs::read(&path).expect("written");
        assert_eq!(&bytes[1..4], b"PNG");
        assert!(bytes.len() > 20_000, "a chart with text is not a blank image: {} bytes", bytes.len());
    }
}
