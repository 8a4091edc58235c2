//! `show-weights`: the incoming weights of every neuron of a layer whose input is an image,
//! each drawn as a tile of the input's shape — what each neuron "looks for".
//!
//! Row `i` of `W^(l)` (shape `(n_l, n_(l-1))`, `n_(l-1) = side²`) becomes tile `i`, read row by
//! row like the image. Red is a positive weight (bright pixels there raise `z_i^(l)`), blue a
//! negative one; each tile is scaled to its own largest `|w|`.

use super::{anchored, diverging, msg, Area, Drawn, Picture};
use ndarray::ArrayView2;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// The weights `W^(l)` of layer `l`, each row a `side × side` image.
pub struct WeightTiles<'a> {
    pub w: ArrayView2<'a, f32>,
    pub side: usize,
    pub title: String,
}

const TOP: i32 = 56;
const GAP: i32 = 22;
const MARGIN: i32 = 12;

/// The most tiles drawn (a 20 × 20 grid); fewer when the tiles are large (see
/// [`WeightTiles::shown`]).
pub const MAX_TILES: usize = 400;

impl WeightTiles<'_> {
    /// The neurons drawn: `0..shown()`, at most [`MAX_TILES`] and at most what keeps the picture
    /// within half of [`super::MAX_PIXELS`].
    pub fn shown(&self) -> usize {
        let step = (self.tile() + GAP) as u64;
        let by_pixels = (super::MAX_PIXELS / 2 / (step * step)).max(1) as usize;
        self.w.nrows().min(MAX_TILES).min(by_pixels)
    }
    /// Screen pixels per weight, so that a tile is about 112 pixels wide.
    fn scale(&self) -> i32 {
        (112 / self.side.max(1) as i32).max(1)
    }
    fn tile(&self) -> i32 {
        self.scale() * self.side as i32
    }
    /// Columns and rows of the grid of tiles.
    fn grid(&self) -> (i32, i32) {
        let n = self.shown().max(1);
        let cols = (n as f64).sqrt().ceil() as usize;
        (cols as i32, n.div_ceil(cols) as i32)
    }
}

impl Picture for WeightTiles<'_> {
    fn size(&self) -> (u32, u32) {
        let (cols, rows) = self.grid();
        let step = self.tile() + GAP;
        let width = (2 * MARGIN + cols * step).max(520);
        (width as u32, (TOP + rows * step + MARGIN) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> Drawn {
        area.fill(&WHITE).map_err(msg)?;
        let width = area.dim_in_pixel().0 as i32;
        let title = anchored(17.0, &BLACK, HPos::Center, VPos::Top);
        area.draw_text(&self.title, &title, (width / 2, 8))
            .map_err(msg)?;
        let legend = anchored(13.0, &BLACK, HPos::Center, VPos::Top);
        area.draw_text(
            "red: positive weight, blue: negative, white: 0 (each tile scaled to its largest |w|)",
            &legend,
            (width / 2, 30),
        )
        .map_err(msg)?;
        let (cols, _) = self.grid();
        for (i, row) in self.w.rows().into_iter().take(self.shown()).enumerate() {
            let step = self.tile() + GAP;
            let x = MARGIN + (i as i32 % cols) * step;
            let y = TOP + (i as i32 / cols) * step + GAP - 4;
            let label = anchored(12.0, &BLACK, HPos::Left, VPos::Bottom);
            area.draw_text(&format!("neuron {i}"), &label, (x, y - 2))
                .map_err(msg)?;
            self.draw_tile(area, &row.to_vec(), (x, y))?;
        }
        Ok(())
    }
}

impl WeightTiles<'_> {
    fn draw_tile<DB: DrawingBackend>(&self, area: &Area<DB>, w: &[f32], at: (i32, i32)) -> Drawn {
        let largest = w.iter().fold(0f32, |m, v| m.max(v.abs()));
        let s = self.scale();
        for (k, &v) in w.iter().enumerate() {
            let (r, c) = ((k / self.side) as i32, (k % self.side) as i32);
            let (x, y) = (at.0 + c * s, at.1 + r * s);
            let t = if largest > 0.0 { v / largest } else { 0.0 };
            area.draw(&Rectangle::new(
                [(x, y), (x + s, y + s)],
                diverging(f64::from(t)).filled(),
            ))
            .map_err(msg)?;
        }
        let t = self.tile();
        area.draw(&Rectangle::new(
            [at, (at.0 + t, at.1 + t)],
            RGBColor(160, 160, 160).stroke_width(1),
        ))
        .map_err(msg)
    }
}
