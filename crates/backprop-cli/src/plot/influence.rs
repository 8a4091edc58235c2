//! `trace --plot`: `|δ_i^(l)|` for every neuron `i` of every layer `l = 2..=L` — the influence
//! map of one example. `δ_i^(l) = ∂C/∂z_i^(l)`, so `ΔC ≈ δ_i^(l) Δz_i^(l)`: a tall bar is a
//! neuron whose weighted input moves the cost most. One panel per layer, each on its own scale;
//! the few most influential neurons of a layer are drawn in red.

use super::{msg, Area, Drawn, Picture, FONT};
use plotters::prelude::*;

/// `|δ^(l)|` per layer, with a title.
pub struct InfluenceMap {
    /// `(l, δ^(l))` for `l = 2..=L`.
    pub deltas: Vec<(usize, Vec<f64>)>,
    pub title: String,
    /// How many of the largest `|δ_i|` of each layer to highlight.
    pub highlight: usize,
}

const PANEL_HEIGHT: u32 = 230;
const BAR: RGBColor = RGBColor(70, 130, 180);
const TOP_BAR: RGBColor = RGBColor(200, 30, 30);

impl Picture for InfluenceMap {
    fn size(&self) -> (u32, u32) {
        (900, 50 + PANEL_HEIGHT * self.deltas.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> Drawn {
        area.fill(&WHITE).map_err(msg)?;
        let body = area
            .titled(&self.title, (FONT, 17).into_font().color(&BLACK))
            .map_err(msg)?;
        let panels = body.split_evenly((self.deltas.len().max(1), 1));
        for ((l, delta), panel) in self.deltas.iter().zip(&panels) {
            self.draw_layer(panel, *l, delta)?;
        }
        Ok(())
    }
}

impl InfluenceMap {
    fn draw_layer<DB: DrawingBackend>(&self, area: &Area<DB>, l: usize, delta: &[f64]) -> Drawn {
        let magnitude: Vec<f64> = delta.iter().map(|d| d.abs()).collect();
        let ranked = crate::trace_view::largest(delta, self.highlight);
        let top = magnitude.iter().copied().fold(0.0, f64::max);
        let caption = match ranked.first() {
            Some(&i) => format!(
                "layer {l}: |δ_i^({l})| for i = 0…{}; largest {:.3e} at neuron {i}",
                delta.len() - 1,
                top
            ),
            None => format!("layer {l}: no neurons"),
        };
        let height = if top > 0.0 && top.is_finite() {
            top * 1.1
        } else {
            1.0
        };
        let n = delta.len().max(1) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(caption, (FONT, 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..n - 0.5, 0.0..height)
            .map_err(msg)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_desc("neuron i")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|&y| {
                if y == 0.0 {
                    "0".into()
                } else {
                    format!("{y:.1e}")
                }
            })
            .draw()
            .map_err(msg)?;
        let width = if delta.len() > 200 { 0.5 } else { 0.4 };
        chart
            .draw_series(magnitude.iter().enumerate().map(|(i, &m)| {
                let color = if ranked.contains(&i) { TOP_BAR } else { BAR };
                let x = i as f64;
                Rectangle::new([(x - width, 0.0), (x + width, m)], color.filled())
            }))
            .map_err(msg)?;
        Ok(())
    }
}
