//! Pictures, written as SVG or PNG by the file's extension and drawn with `plotters`.
//!
//! Text in a PNG is rasterised with DejaVu Sans compiled into the binary (the `dejavu` crate), so
//! no system font, fontconfig or freetype is needed; an SVG names the `sans-serif` family and
//! leaves the rendering to the viewer. Every file is written by `backprop::io::file::write_atomically`
//! (a temporary file beside it, then a rename), so a picture watched during a long run is never
//! seen half-written.
//!
//! Each picture is one type implementing [`Picture`], in its own file:
//! [`training`] (cost and accuracy per epoch), [`confusion`] (a heat map with counts),
//! [`weights`] (incoming weights of each neuron as image tiles) and [`influence`] (`|δ^(l)|` per
//! neuron, the influence map of one example).

pub mod confusion;
mod glyphs;
pub mod influence;
pub mod training;
pub mod weights;

use crate::error::{CliError, CliResult};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::sync::Once;

/// The font family every picture uses.
pub const FONT: &str = "sans-serif";

/// A drawing area of any backend (SVG or bitmap).
pub type Area<DB> = DrawingArea<DB, Shift>;

/// The result of drawing: a drawing error becomes its message.
pub type Drawn = Result<(), String>;

/// Something that can be drawn on a drawing area of a given size.
pub trait Picture {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the picture on `area`, which has [`Picture::size`].
    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> Drawn;
}

/// The file formats, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    /// The format of `path` by its extension (`.svg` or `.png`, any case).
    fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "svg" => Some(Format::Svg),
            "png" => Some(Format::Png),
            _ => None,
        }
    }
}

/// Refuses, before any work, a picture path given with `flag` that cannot be written: an
/// extension other than `.svg`/`.png`, a directory that does not exist, or a target that
/// `backprop::io::file::check_writable` refuses.
pub fn check_target(path: &Path, flag: &str) -> CliResult<()> {
    if Format::of(path).is_none() {
        return Err(CliError::input(format!(
            "{flag} {}: the picture must be a .svg or .png file",
            path.display()
        )));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir.filter(|d| !d.is_dir()) {
        return Err(CliError::input(format!(
            "{flag} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    crate::io::check_files(&[], &[(flag, path)])
}

/// The most pixels of a picture (40 million: a 120 MB RGB buffer). Pictures shrink what they
/// draw to stay within it; [`save`] refuses anything larger.
pub const MAX_PIXELS: u64 = 40_000_000;

/// Draws `picture` and writes it to `path` (SVG or PNG by the extension), atomically.
pub fn save(picture: &impl Picture, path: &Path) -> CliResult<()> {
    let format = Format::of(path).ok_or_else(|| {
        CliError::input(format!(
            "{}: the picture must be a .svg or .png file",
            path.display()
        ))
    })?;
    let (w, h) = picture.size();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(CliError::failure(format!(
            "{}: the picture would be {w} × {h} pixels, more than the limit of {MAX_PIXELS}",
            path.display()
        )));
    }
    register_font();
    let bytes = match format {
        Format::Svg => render_svg(picture),
        Format::Png => render_png(picture),
    }
    .map_err(|e| CliError::failure(format!("{}: cannot draw the picture ({e})", path.display())))?;
    Ok(backprop::io::file::write_atomically(path, &bytes)?)
}

fn render_svg(picture: &impl Picture) -> Result<Vec<u8>, String> {
    let mut text = String::new();
    {
        let area = SVGBackend::with_string(&mut text, picture.size()).into_drawing_area();
        picture.draw(&area)?;
        area.present().map_err(|e| e.to_string())?;
    }
    Ok(text.into_bytes())
}

fn render_png(picture: &impl Picture) -> Result<Vec<u8>, String> {
    let (w, h) = picture.size();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let bitmap = BitMapBackend::with_buffer(&mut rgb, (w, h));
        let area = glyphs::Glyphs(bitmap).into_drawing_area();
        picture.draw(&area)?;
        area.present().map_err(|e| e.to_string())?;
    }
    let image = image::RgbImage::from_raw(w, h, rgb).ok_or("the pixel buffer has a wrong size")?;
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(png.into_inner())
}

/// Registers the embedded DejaVu Sans as [`FONT`] (once); SVG needs it too, to measure text.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped by the `dejavu` crate.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// A drawing error as its message.
pub fn msg<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A text style of `size` pixels in `color`, anchored at its centre.
pub fn centred(size: f64, color: &RGBColor) -> TextStyle<'static> {
    (FONT, size)
        .into_font()
        .color(color)
        .pos(Pos::new(HPos::Center, VPos::Center))
}

/// A text style of `size` pixels in `color`, anchored at `(h, v)`.
pub fn anchored(size: f64, color: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    (FONT, size).into_font().color(color).pos(Pos::new(h, v))
}

/// The colour of `t ∈ [0, 1]` on a white-to-blue ramp (heat maps of counts and magnitudes).
pub fn sequential(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    mix((255, 255, 255), (8, 48, 107), t)
}

/// The colour of `t ∈ [−1, 1]`: blue for negative, white for 0, red for positive (weights).
pub fn diverging(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    if t < 0.0 {
        mix((255, 255, 255), (33, 102, 172), -t)
    } else {
        mix((255, 255, 255), (178, 24, 43), t)
    }
}

fn mix(from: (u8, u8, u8), to: (u8, u8, u8), t: f64) -> RGBColor {
    let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    RGBColor(lerp(from.0, to.0), lerp(from.1, to.1), lerp(from.2, to.2))
}

/// Black text on a light background, white on a dark one.
pub fn ink_on(background: &RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = *background;
    let luma = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    if luma < 128.0 {
        WHITE
    } else {
        BLACK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(Format::of(Path::new("a/b.SVG")), Some(Format::Svg));
        assert_eq!(Format::of(Path::new("b.png")), Some(Format::Png));
        assert_eq!(Format::of(Path::new("b.jpg")), None);
        assert_eq!(Format::of(Path::new("b")), None);
        assert!(check_target(Path::new("x.gif"), "--plot").is_err());
        assert!(check_target(Path::new("/nonexistent/x.png"), "--plot").is_err());
        assert!(check_target(Path::new("x.png"), "--plot").is_ok());
    }

    #[test]
    fn colour_ramps_end_where_they_should() {
        assert_eq!(sequential(0.0), WHITE);
        assert_eq!(diverging(0.0), WHITE);
        assert_eq!(diverging(1.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(-1.0), RGBColor(33, 102, 172));
        assert_eq!(ink_on(&sequential(1.0)), WHITE);
        assert_eq!(ink_on(&WHITE), BLACK);
    }
}
