//! Text in a PNG, placed glyph by glyph where the font says.
//!
//! plotters 0.3.7 rasterises text with `ab_glyph` but draws each glyph from the pen position
//! without its left side bearing (`px_bounds().min.x`), so narrow glyphs sit too far left and
//! leave a gap after them: "2 0", "6.1 32e-2", "T raining" in the first PNGs. [`Glyphs`] wraps a
//! backend and draws text itself with the same font, size, metrics and anchors (the box is
//! plotters' own layout, so nothing else on the picture moves), the bearing included. Every other
//! drawing call goes to the wrapped backend unchanged. SVG needs none of this: the viewer lays
//! the text out.

use ab_glyph::{Font, FontRef, ScaleFont};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};
use std::sync::OnceLock;

/// A backend whose text is drawn by [`Glyphs::draw_text`].
pub struct Glyphs<B>(pub B);

/// DejaVu Sans, parsed once (the font of every PNG, as registered for plotters).
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(dejavu::sans::regular()).ok())
        .as_ref()
}

/// Calls `pixel(x, y, coverage)` for the pixels of `text` at `size`, from the pen at (0, 0) on
/// plotters' vertical convention (the glyph box's top at `size / 2 + min.y`).
fn rasterise(font: &FontRef<'_>, size: f64, text: &str, mut pixel: impl FnMut(i32, i32, f32)) {
    let scaled = font.as_scaled(size as f32);
    let mut pen = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        prev = Some(id);
        let glyph = id.with_scale_and_position(scaled.scale(), ab_glyph::point(pen, 0.0));
        if let Some(outline) = scaled.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            let (left, top) = (
                bounds.min.x as i32,
                (size as f32 / 2.0 + bounds.min.y) as i32,
            );
            outline.draw(|x, y, coverage| pixel(left + x as i32, top + y as i32, coverage));
        }
        pen += scaled.h_advance(id);
    }
}

impl<B: DrawingBackend> DrawingBackend for Glyphs<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }
    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, (iw, ih), src)
    }

    /// plotters' default `draw_text` (the same layout box, anchors and rotation) with the glyphs
    /// of [`rasterise`]; text of another font than the embedded one goes to the wrapped backend.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        let Some(font) = font() else {
            return self.0.draw_text(text, style, pos);
        };
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        let mut result = Ok(());
        rasterise(font, style.size(), text, |x, y, coverage| {
            let (x, y) = transform.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if result.is_ok() && x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let shade = BackendColor {
                    alpha: color.alpha * f64::from(coverage),
                    rgb: color.rgb,
                };
                result = self.0.draw_pixel((x, y), shade);
            }
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns that hold ink when `text` is drawn at 20 px.
    fn inked(text: &str) -> Vec<i32> {
        let mut columns = Vec::new();
        rasterise(font().unwrap(), 20.0, text, |x, _, coverage| {
            if coverage > 0.5 && !columns.contains(&x) {
                columns.push(x);
            }
        });
        columns.sort();
        columns
    }

    #[test]
    fn a_glyph_starts_at_its_bearing_and_the_next_one_an_advance_later() {
        // '1' has a wide left side bearing: plotters drew its ink from column 0.
        let one = inked("1");
        assert!(one[0] >= 2, "the ink of '1' starts at column {}", one[0]);
        let scaled = font().unwrap().as_scaled(20.0);
        let advance = scaled.h_advance(scaled.glyph_id('1'));
        let two = inked("11");
        let second = two.iter().find(|&&x| x > *one.last().unwrap()).unwrap();
        assert!(
            (second - one[0] - advance.round() as i32).abs() <= 1,
            "the second '1' starts at {second}, the first at {}, advance {advance}",
            one[0]
        );
    }
}
