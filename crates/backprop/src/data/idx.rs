//! The IDX format of MNIST and Fashion-MNIST, raw or gzipped.
//!
//! A file is a 4-byte magic number `0x0000TTDD` (`TT = 0x08` for unsigned bytes, `DD` the number of
//! dimensions), `DD` big-endian `u32` sizes, then the data. Images are `0x00000803` (count, rows,
//! columns); labels `0x00000801` (count). Only unsigned bytes are read: other element types are
//! out of scope.

use crate::{Dataset, Error, Result};
use std::io::Read;
use std::path::Path;

/// The magic number of an IDX file of images (3 dimensions of bytes).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX file of labels (1 dimension of bytes).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Decompresses `bytes` when they start with the gzip magic `1f 8b`, else returns them as they are.
pub fn maybe_gunzip(bytes: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        // The gzip trailer holds the decompressed size (mod 2³²): reserve it once, capped.
        let hint = bytes.len().checked_sub(4).map_or(0, |at| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        });
        let mut out = Vec::with_capacity(hint.min(1 << 30));
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("corrupt or truncated gzip data ({e})"))?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Parses an IDX file of unsigned bytes with the given magic: returns its sizes and its data.
pub fn parse(bytes: &[u8], magic: u32) -> std::result::Result<(Vec<usize>, &[u8]), String> {
    let word = |i: usize| {
        bytes
            .get(4 * i..4 * i + 4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    };
    let found = word(0).ok_or("too short for an IDX header")?;
    if found != magic {
        return Err(format!(
            "wrong IDX magic number {found:#010x}, expected {magic:#010x}"
        ));
    }
    let dims = (magic & 0xff) as usize;
    let sizes = (1..=dims)
        .map(|i| word(i).map(|n| n as usize).ok_or("truncated IDX header"))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let expected = sizes
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .ok_or("IDX sizes overflow")?;
    let data = &bytes[4 * (dims + 1)..];
    if data.len() != expected {
        return Err(format!(
            "IDX sizes {sizes:?} need {expected} bytes of data, found {}",
            data.len()
        ));
    }
    Ok((sizes, data))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    maybe_gunzip(bytes).map_err(|m| Error::data(path, m))
}

/// [`parse`], keeping the data in the buffer it came in (the header is removed in place), so a
/// 47 MB image file is never held twice.
fn parse_owned(
    mut bytes: Vec<u8>,
    magic: u32,
) -> std::result::Result<(Vec<usize>, Vec<u8>), String> {
    let (sizes, data) = parse(&bytes, magic)?;
    let header = bytes.len() - data.len();
    bytes.drain(..header);
    Ok((sizes, bytes))
}

/// Images and labels from two IDX byte buffers (each raw or gzipped): pixels scale to `[0, 1]`,
/// labels must be below `n_classes`. `name` names the source in error messages.
pub fn dataset_from_idx_bytes(
    images: Vec<u8>,
    labels: Vec<u8>,
    n_classes: usize,
    name: &Path,
) -> Result<Dataset> {
    let err = |what: &'static str| move |m: String| Error::data(name, format!("{what}: {m}"));
    let images = maybe_gunzip(images)
        .and_then(|b| parse_owned(b, IMAGES_MAGIC))
        .map_err(err("images"))?;
    let labels = maybe_gunzip(labels)
        .and_then(|b| parse_owned(b, LABELS_MAGIC))
        .map_err(err("labels"))?;
    assemble(images, labels, n_classes, name)
}

/// Reads an images file and a labels file in IDX format (raw or gzipped). `n_classes = 0` takes
/// the largest label plus one.
pub fn read_idx(images: &Path, labels: &Path, n_classes: usize) -> Result<Dataset> {
    let parsed_images =
        parse_owned(read(images)?, IMAGES_MAGIC).map_err(|m| Error::data(images, m))?;
    let parsed_labels =
        parse_owned(read(labels)?, LABELS_MAGIC).map_err(|m| Error::data(labels, m))?;
    assemble(parsed_images, parsed_labels, n_classes, labels)
}

/// The standard file names of a directory of IDX files, each raw or gzipped (`….gz`):
/// training images and labels, then test images and labels.
pub const STANDARD_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Whether `dir` holds the four [`STANDARD_FILES`] (raw or gzipped).
pub fn is_standard_dir(dir: &Path) -> bool {
    STANDARD_FILES.iter().all(|f| find_in(dir, f).is_ok())
}

fn find_in(dir: &Path, name: &str) -> Result<std::path::PathBuf> {
    [dir.join(format!("{name}.gz")), dir.join(name)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| Error::data(dir, format!("no {name}.gz or {name} in this directory")))
}

/// The training and test sets of a directory of the four [`STANDARD_FILES`] (MNIST,
/// Fashion-MNIST, …); the number of classes is the largest label plus one.
pub fn read_standard_dir(dir: &Path) -> Result<(Dataset, Dataset)> {
    let [train_x, train_y, test_x, test_y] = STANDARD_FILES.map(|f| find_in(dir, f));
    Ok((
        read_idx(&train_x?, &train_y?, 0)?,
        read_idx(&test_x?, &test_y?, 0)?,
    ))
}

fn assemble(
    images: (Vec<usize>, Vec<u8>),
    labels: (Vec<usize>, Vec<u8>),
    n_classes: usize,
    name: &Path,
) -> Result<Dataset> {
    let ((sizes, pixels), (label_sizes, label_bytes)) = (images, labels);
    let n_classes = match n_classes {
        0 => label_bytes.iter().max().map_or(1, |&k| usize::from(k) + 1),
        n => n,
    };
    if sizes[0] != label_sizes[0] {
        return Err(Error::data(
            name,
            format!("{} images but {} labels", sizes[0], label_sizes[0]),
        ));
    }
    if let Some(&bad) = label_bytes.iter().find(|&&k| usize::from(k) >= n_classes) {
        return Err(Error::data(
            name,
            format!("label {bad} is out of range for {n_classes} classes"),
        ));
    }
    let labels = label_bytes.iter().map(|&k| usize::from(k)).collect();
    Dataset::from_bytes(pixels, sizes[1] * sizes[2], labels, n_classes)
        .map_err(|e| Error::data(name, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, sizes: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        sizes.iter().for_each(|s| v.extend(s.to_be_bytes()));
        v.extend(data);
        v
    }

    #[test]
    fn reads_a_tiny_idx_pair() {
        let images = idx(IMAGES_MAGIC, &[2, 1, 2], &[0, 255, 51, 0]);
        let labels = idx(LABELS_MAGIC, &[2], &[3, 1]);
        let d = dataset_from_idx_bytes(images, labels, 10, Path::new("t")).unwrap();
        assert_eq!(
            (d.len(), d.n_inputs(), d.labels()),
            (2, 2, &[3usize, 1][..])
        );
        assert_eq!(d.input::<f64>(0).to_vec(), vec![0.0, 1.0]);
        assert!((d.input::<f64>(1)[0] - 0.2).abs() < 1e-12);
    }

    #[test]
    fn refuses_bad_headers_and_counts() {
        let images = idx(IMAGES_MAGIC, &[2, 1, 2], &[0, 255, 51, 0]);
        let e = |imgs: Vec<u8>, lbls: Vec<u8>| {
            dataset_from_idx_bytes(imgs, lbls, 10, Path::new("t"))
                .unwrap_err()
                .to_string()
        };
        assert!(e(images.clone(), idx(0x0803, &[2], &[1, 1])).contains("magic"));
        assert!(e(images.clone(), idx(LABELS_MAGIC, &[3], &[1, 1, 1]))
            .contains("2 images but 3 labels"));
        assert!(e(images.clone(), idx(LABELS_MAGIC, &[2], &[1, 12])).contains("label 12"));
        assert!(e(images[..10].to_vec(), idx(LABELS_MAGIC, &[2], &[1, 1])).contains("truncated"));
        assert!(e(vec![0x1f, 0x8b, 1, 2, 3], idx(LABELS_MAGIC, &[2], &[1, 1])).contains("gzip"));
    }
}
