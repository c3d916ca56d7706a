//! SVG line charts with plotters. The SVG backend writes text as `<text>`
//! elements, so no system font is needed and the output is byte-identical
//! for the same data.

use plotters::prelude::*;

/// One line of a chart.
pub struct Line<'a> {
    /// Legend label.
    pub label: &'a str,
    /// Points (x, y), in order of x.
    pub points: Vec<(f64, f64)>,
}

/// A chart to draw.
pub struct Chart<'a> {
    /// Title above the chart.
    pub title: &'a str,
    /// Label of the x axis.
    pub x_label: &'a str,
    /// Label of the y axis.
    pub y_label: &'a str,
    /// The lines.
    pub lines: Vec<Line<'a>>,
}

/// Tableau 10, the default categorical palette of Tableau and matplotlib
/// (`tab10`): ten hues chosen to stay apart from one another.
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

/// The colour of line `i` and whether it is dashed: the palette's ten
/// colours solid, then the same ten dashed, so twenty lines all differ.
fn style_of(i: usize) -> (RGBColor, bool) {
    (PALETTE[i % PALETTE.len()], (i / PALETTE.len()) % 2 == 1)
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    (lo, hi)
}

/// Renders `chart` as an SVG document of `width` x `height` pixels.
pub fn render_svg(chart: &Chart, width: u32, height: u32) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let points = || chart.lines.iter().flat_map(|l| l.points.iter());
        let (x0, x1) = bounds(points().map(|p| p.0));
        let (y0, y1) = bounds(points().map(|p| p.1));
        let y0 = y0.min(0.0);
        let pad = (y1 - y0) * 0.05;
        let mut ctx = ChartBuilder::on(&root)
            .caption(chart.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..(y1 + pad))
            .map_err(|e| e.to_string())?;
        ctx.configure_mesh()
            .x_desc(chart.x_label)
            .y_desc(chart.y_label)
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, line) in chart.lines.iter().enumerate() {
            let (color, dashed) = style_of(i);
            let points = line.points.iter().copied();
            let series = if dashed {
                ctx.draw_series(DashedLineSeries::new(points, 8, 5, color.stroke_width(2)))
            } else {
                ctx.draw_series(LineSeries::new(points, color.stroke_width(2)))
            };
            series
                .map_err(|e| e.to_string())?
                .label(line.label)
                .legend(move |(x, y)| {
                    let gap = if dashed { 6 } else { 0 };
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (6, 0)], color.stroke_width(2))
                        + PathElement::new(vec![(6 + gap, 0), (18, 0)], color.stroke_width(2))
                });
        }
        if chart.lines.len() > 1 {
            ctx.configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_lines_get_twenty_different_styles() {
        let styles: Vec<((u8, u8, u8), bool)> = (0..20)
            .map(|i| {
                let (c, dashed) = style_of(i);
                ((c.0, c.1, c.2), dashed)
            })
            .collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert_ne!(a, b, "two lines share a style");
            }
        }
        // Nine lines (nine regions): nine different colours, all solid.
        let colours: std::collections::BTreeSet<(u8, u8, u8)> =
            styles[..9].iter().map(|s| s.0).collect();
        assert_eq!(colours.len(), 9);
        assert!(styles[..10].iter().all(|s| !s.1));
    }

    #[test]
    fn renders_a_deterministic_svg() {
        let chart = || Chart {
            title: "t",
            x_label: "x",
            y_label: "y",
            lines: vec![
                Line {
                    label: "a",
                    points: vec![(0.0, 1.0), (1.0, 2.0)],
                },
                Line {
                    label: "b",
                    points: vec![(0.0, 0.5), (1.0, 0.25)],
                },
            ],
        };
        let a = render_svg(&chart(), 400, 300).unwrap();
        let b = render_svg(&chart(), 400, 300).unwrap();
        assert!(a.starts_with("<svg"));
        assert!(a.contains("<text"));
        assert_eq!(a, b);
    }
}
