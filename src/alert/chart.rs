//! The month of one department as a PNG chart: its settled amount per day as bars, and the
//! budget prorated to a day as a line, so that a head sees at a glance which days ran over.
//! The budget applies to the settled amount, which is settled for the month as a whole: a
//! day's bar is the month's settled amount spread over the days by their list cost, so the
//! bars sum to the settled amount and compare with the budget as the budget usage does.
//!
//! The chart is drawn with plotters into a memory buffer and encoded with `png`, so nothing
//! touches the disk until the message is written. Text is drawn with a font bundled in
//! `assets/fonts` (DejaVu Sans, see its licence there): the chart looks the same on a server
//! without any installed font. Plotting needs floating point, so amounts are converted from
//! `Decimal` to `f64` here, for drawing only.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use plotters::prelude::*;
use plotters::style::FontStyle;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::calc::{Attribution, DepartmentSummary};

/// Width and height of the chart in pixels.
pub const SIZE: (u32, u32) = (900, 420);

/// The font family name the bundled font is registered under.
const FAMILY: &str = "sans-serif";

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

const BAR: RGBColor = RGBColor(70, 110, 170);
const OVER: RGBColor = RGBColor(200, 70, 60);
const BUDGET: RGBColor = RGBColor(40, 40, 40);

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct ChartError(String);

fn error(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// Registers the bundled font once per process; plotters keeps fonts in a global table.
fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(error("the bundled font cannot be read"))
    }
}

/// The figures the chart shows, in plotting units.
struct Series {
    /// (day of month, settled amount) for every day of the period.
    days: Vec<(u32, f64)>,
    /// Budget per day, when the department has a budget.
    daily_budget: Option<f64>,
    /// Last day of the period.
    last_day: u32,
}

fn series(a: &Attribution, d: &DepartmentSummary) -> Series {
    let last_day = a.period.last_day.day();
    // What each unit of list cost settles: the day's share of the month's settled amount.
    let settled_per_cost = match d.list_cost > Decimal::ZERO {
        true => d.settled / d.list_cost,
        false => Decimal::ZERO,
    };
    let days = (1..=last_day)
        .map(|day| {
            let date =
                NaiveDate::from_ymd_opt(a.period.first_day.year(), a.period.first_day.month(), day);
            let cost = date
                .and_then(|date| d.daily.get(&date))
                .copied()
                .unwrap_or(Decimal::ZERO);
            (day, to_f64(cost * settled_per_cost))
        })
        .collect();
    let daily_budget =
        (d.budget > Decimal::ZERO).then(|| to_f64(d.budget / Decimal::from(last_day)));
    Series {
        days,
        daily_budget,
        last_day,
    }
}

/// Drawing only: an amount as a float (see the module's note).
fn to_f64(amount: Decimal) -> f64 {
    amount.to_f64().unwrap_or(0.0)
}

/// Draws the chart of a department's month and returns it as PNG bytes.
pub fn render(a: &Attribution, d: &DepartmentSummary) -> Result<Vec<u8>, ChartError> {
    register_font()?;
    let series = series(a, d);
    let mut pixels = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(error)?;
        draw(&root, a, d, &series)?;
        root.present().map_err(error)?;
    }
    encode_png(&pixels)
}

fn draw(
    root: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    a: &Attribution,
    d: &DepartmentSummary,
    s: &Series,
) -> Result<(), ChartError> {
    let top = s
        .days
        .iter()
        .map(|(_, cost)| *cost)
        .chain(s.daily_budget)
        .fold(0.0_f64, f64::max)
        .max(0.01)
        // Headroom above the highest bar for the legend.
        * 1.3;
    let title = format!(
        "{} — settled amount per day, {} ({}), status {}",
        d.name,
        a.period.month,
        a.currency,
        d.status.label()
    );
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5_f64..(f64::from(s.last_day) + 0.5), 0.0..top)
        .map_err(error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("day of month")
        .y_desc(format!("settled per day ({})", a.currency))
        .x_labels(s.last_day as usize)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style((FAMILY, 12))
        .draw()
        .map_err(error)?;
    bars(&mut chart, s)?;
    budget_line(&mut chart, s)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FAMILY, 13))
        .draw()
        .map_err(error)?;
    Ok(())
}

type Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// One bar per day; days above the prorated budget are drawn in red.
fn bars(chart: &mut Chart<'_, '_>, s: &Series) -> Result<(), ChartError> {
    let limit = s.daily_budget.unwrap_or(f64::INFINITY);
    chart
        .draw_series(s.days.iter().map(|&(day, cost)| {
            let x = f64::from(day);
            let color = if cost > limit { OVER } else { BAR };
            Rectangle::new([(x - 0.38, 0.0), (x + 0.38, cost)], color.filled())
        }))
        .map_err(error)?
        .label("settled amount per day (the month's, spread by list cost)")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], BAR.filled()));
    Ok(())
}

/// The budget divided evenly over the days of the month.
fn budget_line(chart: &mut Chart<'_, '_>, s: &Series) -> Result<(), ChartError> {
    let Some(budget) = s.daily_budget else {
        return Ok(());
    };
    let end = f64::from(s.last_day) + 0.5;
    chart
        .draw_series(LineSeries::new(
            [(0.5, budget), (end, budget)],
            BUDGET.stroke_width(2),
        ))
        .map_err(error)?
        .label("budget per day (monthly budget ÷ days in the month)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], BUDGET.stroke_width(2)));
    Ok(())
}

fn encode_png(pixels: &[u8]) -> Result<Vec<u8>, ChartError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, SIZE.0, SIZE.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(error)?;
        writer.write_image_data(pixels).map_err(error)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Attribution {
        crate::sample::month().unwrap().2
    }

    /// Decodes a PNG into RGB pixels.
    fn pixels(png_bytes: &[u8]) -> Vec<[u8; 3]> {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .unwrap();
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer).unwrap();
        assert_eq!((info.width, info.height), SIZE);
        buffer[..info.buffer_size()]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect()
    }

    fn count(pixels: &[[u8; 3]], color: RGBColor) -> usize {
        pixels
            .iter()
            .filter(|p| **p == [color.0, color.1, color.2])
            .count()
    }

    #[test]
    fn the_bars_are_the_settled_amount_the_budget_applies_to() {
        let a = sample();
        let d = a.department("Data Science").unwrap();
        let s = series(&a, d);
        let total: f64 = s.days.iter().map(|(_, v)| v).sum();
        assert!((total - to_f64(d.settled)).abs() < 0.005, "{total}");
        // Over the month, the bars stand to the budget line as the budget usage says.
        let budget = s.daily_budget.unwrap() * f64::from(s.last_day);
        let usage = to_f64(d.budget_usage.unwrap());
        assert!((usage - 1.035).abs() < 0.0005, "{usage}");
        assert!(
            (total / budget - usage).abs() < 1e-6,
            "{total} against {budget}"
        );
    }

    #[test]
    fn days_over_the_prorated_budget_are_red_and_text_is_drawn() {
        let a = sample();
        let data = pixels(&render(&a, a.department("Data Science").unwrap()).unwrap());
        assert!(
            count(&data, OVER) > 1000,
            "Data Science has days over its daily budget"
        );
        assert!(count(&data, BAR) > 1000);
        let finance = a.department("Finance").unwrap();
        let quiet = series(&a, finance);
        let limit = quiet.daily_budget.unwrap();
        assert!(quiet.days.iter().all(|(_, v)| *v <= limit));
        let finance = pixels(&render(&a, finance).unwrap());
        assert_eq!(
            count(&finance, OVER),
            0,
            "Finance stays under its daily budget"
        );

        // The title is drawn with the bundled font: dark pixels in the top rows.
        let title_rows = &data[..(SIZE.0 * 30) as usize];
        let dark = title_rows
            .iter()
            .filter(|p| p.iter().all(|c| *c < 100))
            .count();
        assert!(
            dark > 200,
            "only {dark} dark pixels where the title should be"
        );
    }
}
