//! `evaluate --confusion`: the confusion matrix as a heat map, each cell with its count.
//!
//! Rows are true labels, columns predicted classes, like the text table. A cell's shade is its
//! count as a fraction of its row (so each true class's errors stand out whatever its size).

use super::{anchored, centred, ink_on, msg, sequential, Area, Drawn, Picture};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// A confusion matrix `(true label, predicted class) → count` with a title. Only the first
/// [`MAX_CLASSES`] classes are drawn (see [`ConfusionMap::shown`]), so the picture stays small
/// whatever the output layer.
pub struct ConfusionMap<'a> {
    pub confusion: &'a ndarray::Array2<usize>,
    pub title: String,
}

/// The most classes drawn: 100 × 12-pixel cells, a picture of 1,320 × 1,320 pixels.
pub const MAX_CLASSES: usize = 100;

/// Space for the title and the column labels (top) and the row labels (left).
const TOP: i32 = 90;
const LEFT: i32 = 90;
const MARGIN: i32 = 30;

impl ConfusionMap<'_> {
    /// The classes of the matrix.
    pub fn classes(&self) -> usize {
        self.confusion.nrows().max(self.confusion.ncols()).max(1)
    }
    /// The classes drawn: `0..shown()`, at most [`MAX_CLASSES`].
    pub fn shown(&self) -> usize {
        self.classes().min(MAX_CLASSES)
    }
    fn n(&self) -> usize {
        self.shown()
    }
    fn cell(&self) -> i32 {
        (640 / self.n() as i32).clamp(12, 64)
    }
}

impl Picture for ConfusionMap<'_> {
    fn size(&self) -> (u32, u32) {
        let side = self.cell() * self.n() as i32;
        ((LEFT + side + MARGIN) as u32, (TOP + side + MARGIN) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> Drawn {
        area.fill(&WHITE).map_err(msg)?;
        let (cell, n) = (self.cell(), self.n() as i32);
        let width = area.dim_in_pixel().0 as i32;
        let text = anchored(18.0, &BLACK, HPos::Center, VPos::Top);
        area.draw_text(&self.title, &text, (width / 2, 8))
            .map_err(msg)?;
        let small = (f64::from(cell) * 0.38).clamp(7.0, 15.0);
        let label = centred(small, &BLACK);
        area.draw_text(
            "predicted class",
            &centred(14.0, &BLACK),
            (LEFT + cell * n / 2, TOP - 40),
        )
        .map_err(msg)?;
        area.draw_text("true", &centred(14.0, &BLACK), (LEFT / 2 - 10, TOP - 40))
            .map_err(msg)?;
        area.draw_text("label", &centred(14.0, &BLACK), (LEFT / 2 - 10, TOP - 24))
            .map_err(msg)?;
        for k in 0..n {
            let mid = k * cell + cell / 2;
            area.draw_text(&k.to_string(), &label, (LEFT + mid, TOP - 12))
                .map_err(msg)?;
            area.draw_text(&k.to_string(), &label, (LEFT - 14, TOP + mid))
                .map_err(msg)?;
        }
        for (row, counts) in self
            .confusion
            .rows()
            .into_iter()
            .take(n as usize)
            .enumerate()
        {
            let total: usize = counts.sum();
            for (col, &count) in counts.iter().take(n as usize).enumerate() {
                let (x, y) = (LEFT + col as i32 * cell, TOP + row as i32 * cell);
                let shade = sequential(count as f64 / total.max(1) as f64);
                area.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    shade.filled(),
                ))
                .map_err(msg)?;
                area.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    RGBColor(200, 200, 200).stroke_width(1),
                ))
                .map_err(msg)?;
                let ink = centred(small, &ink_on(&shade));
                area.draw_text(&count.to_string(), &ink, (x + cell / 2, y + cell / 2))
                    .map_err(msg)?;
            }
        }
        Ok(())
    }
}
