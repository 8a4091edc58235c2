//! The IDX format of MNIST and Fashion-MNIST, raw or gzipped.
//!
//! A file is a 4-byte magic number `0x0000TTDD` (`TT = 0x08` for unsigned bytes, `DD` the number of
//! dimensions), `DD` big-endian `u32` sizes, then the data. Images are `0x00000803` (count, rows,
//! columns); labels `0x00000801` (count). Only unsigned bytes are read: other element types are
//! out of scope.

use crate::error::{Error, Result};
use crate::io::dataset::Dataset;
use crate::limits::MAX_IDX_BYTES;
use std::io::Read;
use std::path::Path;

/// The magic number of an IDX file of images (3 dimensions of bytes).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX file of labels (1 dimension of bytes).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The first bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Decompresses `bytes` when they start with the gzip magic `1f 8b`, else returns them as they are.
/// At most [`MAX_IDX_BYTES`] plus a header are decompressed: more is refused, so a small "gzip
/// bomb" cannot exhaust memory.
pub fn maybe_gunzip(bytes: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let limit = MAX_IDX_BYTES + 4 * 256;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("corrupt or truncated gzip data ({e})"))?;
    if out.len() as u64 > limit {
        return Err(format!(
            "decompresses to more than {limit} bytes (MAX_IDX_BYTES)"
        ));
    }
    Ok(out)
}

/// Reads an IDX file of unsigned bytes with the given magic from `reader` (raw, or a gzip
/// decoder), taking only what its header says: the header first, then exactly the data it
/// declares (refused above [`MAX_IDX_BYTES`]), then one byte more to refuse extra data. So a
/// stream is never read further than its header allows.
/// `gzipped` says that `reader` decompresses, so that its errors are named as gzip errors.
pub fn read_stream(
    reader: impl Read,
    magic: u32,
    gzipped: bool,
) -> std::result::Result<(Vec<usize>, Vec<u8>), String> {
    let mut reader = std::io::BufReader::new(reader);
    let eof = std::io::ErrorKind::UnexpectedEof;
    let io = move |e: std::io::Error, short: &str| match e.kind() {
        _ if gzipped && e.kind() != eof => format!("corrupt gzip data ({e})"),
        k if k == eof && gzipped => format!("{short} (in truncated gzip data)"),
        k if k == eof => short.to_string(),
        _ => format!("cannot read ({e})"),
    };
    let mut word = [0u8; 4];
    reader
        .read_exact(&mut word)
        .map_err(|e| io(e, "too short for an IDX header"))?;
    let found = u32::from_be_bytes(word);
    if found != magic {
        return Err(format!(
            "wrong IDX magic number {found:#010x}, expected {magic:#010x}"
        ));
    }
    let mut sizes = Vec::new();
    for _ in 0..(magic & 0xff) {
        reader
            .read_exact(&mut word)
            .map_err(|e| io(e, "truncated IDX header"))?;
        sizes.push(u32::from_be_bytes(word) as usize);
    }
    let expected = sizes
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .filter(|&n| n as u64 <= MAX_IDX_BYTES)
        .ok_or_else(|| {
            format!("IDX sizes {sizes:?} declare more than {MAX_IDX_BYTES} bytes of data (MAX_IDX_BYTES)")
        })?;
    let mut data = Vec::with_capacity(expected.min(1 << 26));
    reader
        .take(expected as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| io(e, "truncated data"))?;
    match data.len() {
        n if n < expected => Err(format!(
            "IDX sizes {sizes:?} need {expected} bytes of data, found {n}"
        )),
        n if n > expected => Err(format!(
            "IDX sizes {sizes:?} need {expected} bytes of data, but more follow"
        )),
        _ => Ok((sizes, data)),
    }
}

/// [`read_stream`] of bytes that are raw or gzipped (by the magic `1f 8b`).
fn read_bytes(bytes: &[u8], magic: u32) -> std::result::Result<(Vec<usize>, Vec<u8>), String> {
    if bytes.starts_with(&GZIP_MAGIC) {
        read_stream(flate2::read::MultiGzDecoder::new(bytes), magic, true)
    } else {
        read_stream(bytes, magic, false)
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

/// Reads the IDX file at `path` through [`read_stream`]: gzipped when it starts with `1f 8b`; a
/// name ending in `.gz` must be gzip.
fn read_file(path: &Path, magic: u32) -> Result<(Vec<usize>, Vec<u8>)> {
    let mut file = crate::io::file::open_for_reading(path)?;
    let mut start = [0u8; 2];
    let n = file.read(&mut start).map_err(|e| Error::io(path, e))?;
    let head = std::io::Cursor::new(start[..n].to_vec());
    let gzipped = start[..n] == GZIP_MAGIC;
    let named_gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let result = if gzipped {
        read_stream(
            flate2::read::MultiGzDecoder::new(head.chain(file)),
            magic,
            true,
        )
    } else if named_gz {
        Err("not gzip data: a .gz file must start with the bytes 1f 8b".into())
    } else {
        read_stream(head.chain(file), magic, false)
    };
    result.map_err(|m| Error::data(path, m))
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
    let images = read_bytes(&images, IMAGES_MAGIC).map_err(err("images"))?;
    let labels = read_bytes(&labels, LABELS_MAGIC).map_err(err("labels"))?;
    assemble(images, labels, n_classes, name)
}

/// Reads an images file and a labels file in IDX format (raw or gzipped). `n_classes = 0` takes
/// the largest label plus one.
pub fn read_idx(images: &Path, labels: &Path, n_classes: usize) -> Result<Dataset> {
    let parsed_images = read_file(images, IMAGES_MAGIC)?;
    let parsed_labels = read_file(labels, LABELS_MAGIC)?;
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
    STANDARD_FILES
        .iter()
        .all(|f| dir.join(format!("{f}.gz")).exists() || dir.join(f).exists())
}

/// The path of `name.gz` or `name` in `dir`; one that exists but is not a regular file (a FIFO,
/// a directory) is named as such rather than reported missing.
fn find_in(dir: &Path, name: &str) -> Result<std::path::PathBuf> {
    let candidates = [dir.join(format!("{name}.gz")), dir.join(name)];
    if let Some(p) = candidates.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    match candidates.iter().find(|p| p.exists()) {
        Some(p) => Err(Error::data(
            p,
            "not a regular file (a named pipe, socket or directory cannot be a data set file)",
        )),
        None => Err(Error::data(
            dir,
            format!("no {name}.gz or {name} in this directory"),
        )),
    }
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
