//! PNG plots with plotters, drawn into an RGB buffer and encoded with `png`.
use super::*;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

const W: u32 = 900;
const H: u32 = 540;

/// Registers a sans-serif TrueType font for the plots' text, from the usual system
/// locations; `None` (plots without text) when there is none.
pub fn load_font() -> Option<&'static str> {
    static FONT: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
    *FONT.get_or_init(|| {
        let candidates = [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        ];
        let bytes = candidates.iter().find_map(|p| std::fs::read(p).ok())?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .ok()
            .map(|()| "sans-serif")
    })
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plotting failed: {e:?}")
}

type Chart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// What frames a plot: its title, ranges and axis names.
struct Frame<'t> {
    caption: String,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    x_desc: &'t str,
    y_desc: &'t str,
}

/// Draws `draw`'s series on a framed chart and writes the PNG: the caption, axis names and
/// legend only when a font is registered.
fn render(
    path: &Path,
    frame: Frame,
    font: Option<&'static str>,
    draw: impl FnOnce(&mut Chart) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut rgb = vec![255u8; (W * H * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(20);
        if let Some(font) = font {
            builder
                .caption(&frame.caption, (font, 22))
                .x_label_area_size(45)
                .y_label_area_size(70);
        }
        let mut chart = builder.build_cartesian_2d(frame.x, frame.y).map_err(err)?;
        let mut mesh = chart.configure_mesh();
        match font {
            Some(font) => mesh
                .x_desc(frame.x_desc)
                .y_desc(frame.y_desc)
                .label_style((font, 14)),
            None => mesh.disable_x_mesh().disable_y_mesh(),
        };
        mesh.draw().map_err(err)?;
        draw(&mut chart)?;
        if let Some(font) = font {
            chart
                .configure_series_labels()
                .label_font((font, 14))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    write_png(path, &rgb, (W, H), png::ColorType::Rgb)
}

pub fn wrong_acceptance(
    path: &Path,
    scenarios: &[&ScenarioReport],
    caption: &str,
    theory: &dyn Fn(f64) -> f64,
    font: Option<&'static str>,
) -> anyhow::Result<()> {
    let x_max = scenarios
        .iter()
        .map(|s| s.colluder_share + 0.05)
        .fold(0.5f64, f64::max)
        .min(1.0);
    let y_max = scenarios
        .iter()
        .map(|s| s.wrong_ci95.1.max(s.theory_initial))
        .fold(theory(x_max), f64::max)
        .max(0.01)
        * 1.1;
    let frame = Frame {
        caption: caption.to_string(),
        x: 0.0..x_max,
        y: 0.0..y_max,
        x_desc: "colluding group's share of the stake",
        y_desc: "wrong results accepted per job",
    };
    render(path, frame, font, |chart| {
        let curve = (0..=100).map(|i| {
            let f = x_max * f64::from(i) / 100.0;
            (f, theory(f))
        });
        chart
            .draw_series(LineSeries::new(curve, BLUE.stroke_width(2)))
            .map_err(err)?
            .label("theory (upper bound)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
        for s in scenarios {
            let x = s.colluder_share;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, s.wrong_ci95.0), (x, s.wrong_ci95.1)],
                    RED.stroke_width(2),
                )))
                .map_err(err)?;
        }
        chart
            .draw_series(
                scenarios
                    .iter()
                    .map(|s| Circle::new((s.colluder_share, s.wrong_rate), 5, RED.filled())),
            )
            .map_err(err)?
            .label("measured (95% CI)")
            .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
        Ok(())
    })
}

pub fn earnings(path: &Path, s: &ScenarioReport, font: Option<&'static str>) -> anyhow::Result<()> {
    let jobs = s.settled_after.last().copied().unwrap_or(1).max(1);
    let (lo, hi) = s
        .earnings
        .values()
        .flatten()
        .fold((0f64, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.1).max(1e-3);
    let frame = Frame {
        caption: format!("{}: net earnings per staked token", s.name),
        x: 0.0..jobs as f64,
        y: (lo - pad)..(hi + pad),
        x_desc: "jobs settled",
        y_desc: "(earned - slashed) / initial stake",
    };
    render(path, frame, font, |chart| {
        for (strategy, series) in &s.earnings {
            let color = match strategy.as_str() {
                "honest" => BLUE,
                "colluder" => RED,
                "liar" => MAGENTA,
                "lazy" => BLACK,
                "copycat" => GREEN,
                _ => RGBColor(230, 140, 0),
            };
            let points = s.settled_after.iter().zip(series);
            chart
                .draw_series(LineSeries::new(
                    points.map(|(&x, &y)| (x as f64, y)),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(strategy.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        Ok(())
    })
}
