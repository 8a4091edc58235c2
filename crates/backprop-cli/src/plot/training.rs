//! `train --plot`: the training cost and the test accuracy per epoch, two panels one above the
//! other, redrawn after every epoch.

use super::{msg, Area, Drawn, Picture, FONT};
use plotters::prelude::*;

/// What one epoch adds to the picture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochPoint {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Mean cost of the training examples as their mini-batch was processed.
    pub train_cost: f64,
    /// Mean cost on the test split.
    pub test_cost: f64,
    /// Fraction of the test split classified right, in [0, 1].
    pub test_accuracy: f64,
}

/// The curves of a training run so far; the x axis spans every planned epoch from the start.
#[derive(Clone, Debug, Default)]
pub struct TrainingCurves {
    /// The planned number of epochs.
    pub epochs: usize,
    /// One point per finished epoch, thinned to at most [`MAX_CURVE_POINTS`] (see
    /// [`TrainingCurves::push`]).
    pub points: Vec<EpochPoint>,
    /// A line under the title (architecture and settings).
    pub subtitle: String,
}

/// The most points a curve keeps: beyond it every other point is dropped, so that redrawing
/// after each epoch of a run of 100,000 epochs costs what it costs at 2,000.
pub const MAX_CURVE_POINTS: usize = 2000;

impl TrainingCurves {
    /// Adds the point of the epoch just finished, thinning the older ones when there are too
    /// many (the last point is always kept).
    pub fn push(&mut self, point: Option<EpochPoint>) {
        self.points.extend(point);
        if self.points.len() > MAX_CURVE_POINTS {
            let last = self.points.len() - 1;
            let mut i = 0;
            self.points.retain(|_| {
                i += 1;
                i % 2 == 0 || i - 1 == last
            });
        }
    }
}

const BLUE_LINE: RGBColor = RGBColor(31, 119, 180);
const ORANGE_LINE: RGBColor = RGBColor(255, 127, 14);
const GREEN_LINE: RGBColor = RGBColor(44, 160, 44);

impl Picture for TrainingCurves {
    fn size(&self) -> (u32, u32) {
        (900, 700)
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> Drawn {
        area.fill(&WHITE).map_err(msg)?;
        let body = area
            .titled(&self.subtitle, (FONT, 16).into_font().color(&BLACK))
            .map_err(msg)?;
        let (top, bottom) = body.split_vertically(body.dim_in_pixel().1 / 2);
        self.draw_cost(&top)?;
        self.draw_accuracy(&bottom)
    }
}

impl TrainingCurves {
    /// Epochs `1..=E` (at least `1..=2`, so that the axis has a length).
    fn x_range(&self) -> std::ops::Range<u32> {
        1..self.epochs.max(2) as u32
    }

    /// Integer epochs as x coordinates, at most about 15 labels.
    fn x_labels(&self) -> usize {
        self.epochs.clamp(2, 15)
    }

    fn draw_cost<DB: DrawingBackend>(&self, area: &Area<DB>) -> Drawn {
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        let top = self
            .points
            .iter()
            .map(|p| finite(p.train_cost).max(finite(p.test_cost)))
            .fold(0.0, f64::max);
        let top = if top > 0.0 { top * 1.1 } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .caption("Cost C per epoch", (FONT, 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(self.x_range(), 0.0..top)
            .map_err(msg)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("mean cost")
            .x_labels(self.x_labels())
            .light_line_style(WHITE)
            .y_label_formatter(&|y| format!("{y:.3}"))
            .draw()
            .map_err(msg)?;
        let series = [
            ("train (during the epoch)", BLUE_LINE, 0),
            ("test (after the epoch)", ORANGE_LINE, 1),
        ];
        for (name, color, which) in series {
            let points: Vec<(u32, f64)> = self
                .points
                .iter()
                .map(|p| {
                    let c = if which == 0 {
                        p.train_cost
                    } else {
                        p.test_cost
                    };
                    (p.epoch as u32, c)
                })
                .filter(|(_, c)| c.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(msg)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(msg)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 14))
            .draw()
            .map_err(msg)
    }

    fn draw_accuracy<DB: DrawingBackend>(&self, area: &Area<DB>) -> Drawn {
        let points: Vec<(u32, f64)> = self
            .points
            .iter()
            .map(|p| (p.epoch as u32, 100.0 * p.test_accuracy))
            .collect();
        let low = points.iter().map(|p| p.1).fold(100.0, f64::min);
        let bottom = ((low - 5.0) / 10.0).floor().clamp(0.0, 9.0) * 10.0;
        let mut chart = ChartBuilder::on(area)
            .caption("Test accuracy per epoch", (FONT, 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(self.x_range(), bottom..100.0)
            .map_err(msg)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("accuracy (%)")
            .x_labels(self.x_labels())
            .light_line_style(WHITE)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(msg)?;
        chart
            .draw_series(LineSeries::new(points.clone(), GREEN_LINE.stroke_width(2)))
            .map_err(msg)?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 3, GREEN_LINE.filled())),
            )
            .map_err(msg)?;
        Ok(())
    }
}
