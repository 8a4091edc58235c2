//! Model files: safetensors, which PyTorch, NumPy and candle users already read.
//!
//! Tensors `layers.{l}.weight` of shape `(n_l, n_(l-1))` and `layers.{l}.bias` of shape `(n_l)`,
//! `f32`, with `l` the lecture's layer number `2..=L`. The metadata (string to string) holds
//! `format` (`"backprop"`), `format_version` (`"1"`), `sizes` (`"784,30,10"`),
//! `hidden_activation`, `output_activation` and `cost` (the names of [`Activation`] and
//! [`Cost`]), plus any extra entries the caller adds (the command-line tool stores its training
//! settings under `training`), and [`CHECKSUMS`]: the CRC-32 of every tensor's data.
//!
//! Files are written by [`crate::io::file::write_atomically`]: a temporary file beside the target,
//! flushed, then renamed over it, so a crash never leaves a half-written model. Loading checks every tensor's
//! presence, type and shape against the metadata.

use crate::error::{Error, Result};
use crate::io::checksum;
use crate::kernel::float::Float;
use crate::lecture::activation::Activation;
use crate::lecture::cost::Cost;
use crate::lecture::layers::Layers;
use crate::lecture::network::{Architecture, Network};
use ndarray::{Array1, Array2};
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::path::Path;

/// The value of the `format` metadata entry.
pub const FORMAT: &str = "backprop";
/// The value of the `format_version` metadata entry written by this version.
pub const FORMAT_VERSION: &str = "1";

/// The metadata entry that holds a JSON object from each tensor's name to the CRC-32 (IEEE, as
/// zlib's `crc32` and Python's `zlib.crc32` compute it) of its little-endian data, as 8 lowercase
/// hex digits. Every file this crate writes has it; a file whose data do not match is refused,
/// naming the tensor. Files written before it (no entry) still load.
pub const CHECKSUMS: &str = "tensor_crc32";

/// A network read from a model file, with the file's metadata.
#[derive(Clone, Debug)]
pub struct Model {
    /// The network, in `f32`.
    pub network: Network<f32>,
    /// Every metadata entry of the file, the standard ones included.
    pub metadata: BTreeMap<String, String>,
}

/// The name of the weight tensor of layer `l`.
pub fn weight_name(l: usize) -> String {
    format!("layers.{l}.weight")
}

/// The name of the bias tensor of layer `l`.
pub fn bias_name(l: usize) -> String {
    format!("layers.{l}.bias")
}

/// The standard metadata entries of a network: format, version, sizes, activations, cost.
pub fn standard_metadata<F: Float>(net: &Network<F>) -> BTreeMap<String, String> {
    let arch = net.architecture();
    let sizes = arch
        .sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",");
    [
        ("format", FORMAT.to_string()),
        ("format_version", FORMAT_VERSION.to_string()),
        ("sizes", sizes),
        ("hidden_activation", arch.hidden.name().to_string()),
        ("output_activation", arch.output.name().to_string()),
        ("cost", arch.cost.name().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Safetensors bytes of `f32` tensors `(name, shape, values)` with `metadata`, byte for byte
/// the same for the same input: the header is written here in a fixed order (`__metadata__`
/// with its keys sorted, then the tensors in the given order, their data in that order), where
/// the `safetensors` crate writes metadata in the random order of a hash map.
pub fn tensors_to_bytes(
    tensors: &[(String, Vec<usize>, Vec<f32>)],
    metadata: BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    use serde_json::{json, Map, Value};
    let mut metadata = metadata;
    let sums: BTreeMap<&str, String> = tensors
        .iter()
        .map(|(name, _, values)| {
            (
                name.as_str(),
                format!("{:08x}", checksum::crc32_f32(values)),
            )
        })
        .collect();
    metadata.insert(CHECKSUMS.into(), json!(sums).to_string());
    let mut header = Map::new(); // serde_json's map keeps keys sorted: a fixed order
    header.insert("__metadata__".into(), json!(metadata));
    let mut offset = 0usize;
    for (name, shape, values) in tensors {
        let count = shape.iter().try_fold(1usize, |a, &n| a.checked_mul(n));
        if count != Some(values.len()) {
            return Err(Error::InvalidSetting(format!(
                "tensor {name}: shape {shape:?} does not hold {} values",
                values.len()
            )));
        }
        let end = offset + 4 * values.len();
        header.insert(
            name.clone(),
            json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut text = Value::Object(header).to_string().into_bytes();
    // Pad with spaces so the data starts 8-byte aligned, as the safetensors crate does.
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut bytes = Vec::with_capacity(8 + text.len() + offset);
    bytes.extend((text.len() as u64).to_le_bytes());
    bytes.extend(text);
    for (_, _, values) in tensors {
        bytes.extend(values.iter().flat_map(|x| x.to_le_bytes()));
    }
    Ok(bytes)
}

/// Refuses a file whose tensor data do not match the [`CHECKSUMS`] entry of its metadata
/// (a flipped bit, a truncated copy), naming the first such tensor. Without the entry (a file
/// written before it) there is nothing to check.
fn check_sums(
    tensors: &SafeTensors<'_>,
    metadata: &BTreeMap<String, String>,
) -> std::result::Result<(), String> {
    let Some(entry) = metadata.get(CHECKSUMS) else {
        return Ok(());
    };
    let sums: BTreeMap<String, String> = serde_json::from_str(entry)
        .map_err(|e| format!("metadata `{CHECKSUMS}` is not a JSON object of strings: {e}"))?;
    if let Some(name) = tensors.names().into_iter().find(|n| !sums.contains_key(*n)) {
        return Err(format!(
            "tensor `{name}` has no checksum in `{CHECKSUMS}`: the file was changed after it was written"
        ));
    }
    for (name, sum) in &sums {
        let t = tensors
            .tensor(name)
            .map_err(|_| format!("tensor `{name}` of `{CHECKSUMS}` is missing"))?;
        let mut crc = flate2::Crc::new();
        crc.update(t.data());
        if format!("{:08x}", crc.sum()) != *sum {
            return Err(format!(
                "tensor `{name}` does not match its checksum (CRC-32 {:08x}, the file says {sum}): the file is damaged",
                crc.sum()
            ));
        }
    }
    Ok(())
}

/// The safetensors bytes of `net` (in `f32`) with its metadata and `extra` entries.
pub fn to_bytes<F: Float>(net: &Network<F>, extra: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let mut tensors = Vec::new();
    for l in 2..=net.num_layers() {
        let (w, b) = (net.weights(l), net.biases(l));
        tensors.push((
            weight_name(l),
            vec![w.nrows(), w.ncols()],
            w.iter().map(|v| v.as_f64() as f32).collect(),
        ));
        tensors.push((
            bias_name(l),
            vec![b.len()],
            b.iter().map(|v| v.as_f64() as f32).collect(),
        ));
    }
    let mut metadata = extra.clone();
    metadata.extend(standard_metadata(net));
    tensors_to_bytes(&tensors, metadata)
}

/// Saves `net` to `path` as safetensors, atomically, with `extra` metadata entries.
pub fn save<F: Float>(
    net: &Network<F>,
    path: &Path,
    extra: &BTreeMap<String, String>,
) -> Result<()> {
    crate::io::file::write_atomically(path, &to_bytes(net, extra)?)
}

/// Reads a model file written by [`save`], checking every shape against the metadata.
pub fn load(path: &Path) -> Result<Model> {
    let bytes = read_file(path)?;
    from_bytes(&bytes).map_err(|message| Error::model(path, message))
}

/// The largest safetensors header read (the `safetensors` crate's own limit).
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// The bytes of a safetensors file, read only as far as its header says: the 8-byte header
/// length (refused above 100 MB), the header, then the tensor data it declares (refused above
/// [`MAX_FILE_TENSOR_BYTES`](crate::limits::MAX_FILE_TENSOR_BYTES)) and one byte more, which the
/// parser then refuses. So `/dev/zero` or `/dev/urandom` is refused after a few bytes.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let bad = |m: String| Error::model(path, m);
    let mut file = crate::io::file::open_for_reading(path)?;
    let mut bytes = Vec::new();
    (&mut file)
        .take(8)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    let Ok(length) = <[u8; 8]>::try_from(&bytes[..]) else {
        return Err(bad(
            "not a safetensors file (shorter than its 8-byte header length)".into(),
        ));
    };
    let header_len = u64::from_le_bytes(length);
    if header_len > MAX_HEADER_BYTES {
        return Err(bad(format!(
            "not a safetensors file (its header would take {header_len} bytes; at most {MAX_HEADER_BYTES} are read)"
        )));
    }
    (&mut file)
        .take(header_len)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes[8..])
        .map_err(|e| {
            bad(format!(
                "not a safetensors file (the header is not a JSON object: {e})"
            ))
        })?;
    let data_len = header
        .iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .filter_map(|(_, t)| t["data_offsets"][1].as_u64())
        .max()
        .unwrap_or(0);
    if data_len > crate::limits::MAX_FILE_TENSOR_BYTES {
        return Err(bad(format!(
            "its header declares {} of tensors; at most {} GiB are read (MAX_FILE_TENSOR_BYTES)",
            crate::limits::human_bytes(data_len as f64),
            crate::limits::MAX_FILE_TENSOR_BYTES >> 30
        )));
    }
    file.take(data_len + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

/// Parses the bytes of a model file; the error is a one-line description.
pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Model, String> {
    parse(bytes, FORMAT)
}

/// Weights and biases of every layer, read from a file.
pub type LayerTensors = (Layers<Array2<f32>>, Layers<Array1<f32>>);

/// Tensors `{prefix}layers.{l}.weight` and `.bias` for the given sizes, shapes checked, every
/// value finite (NaN or ∞ is refused).
pub fn read_layers(
    bytes: &[u8],
    prefix: &str,
    sizes: &[usize],
) -> std::result::Result<LayerTensors, String> {
    let tensors =
        SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file ({e})"))?;
    let read = |name: &str, shape: &[usize]| -> std::result::Result<Vec<f32>, String> {
        let t = tensors
            .tensor(name)
            .map_err(|_| format!("tensor `{name}` is missing"))?;
        if t.dtype() != Dtype::F32 {
            return Err(format!("tensor `{name}` is {:?}, expected F32", t.dtype()));
        }
        if t.shape() != shape {
            return Err(format!(
                "tensor `{name}` has shape {:?} but the sizes {sizes:?} need {shape:?}",
                t.shape()
            ));
        }
        let values: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        match values.iter().position(|v| !v.is_finite()) {
            Some(i) => Err(format!(
                "tensor `{name}` holds {} at flat index {i}: the parameters of a network must be finite",
                values[i]
            )),
            None => Ok(values),
        }
    };
    let (mut weights, mut biases) = (Vec::new(), Vec::new());
    for l in 2..=sizes.len() {
        let (n_out, n_in) = (sizes[l - 1], sizes[l - 2]);
        let w = read(&format!("{prefix}{}", weight_name(l)), &[n_out, n_in])?;
        weights.push(Array2::from_shape_vec((n_out, n_in), w).map_err(|e| e.to_string())?);
        biases.push(Array1::from_vec(read(
            &format!("{prefix}{}", bias_name(l)),
            &[n_out],
        )?));
    }
    Ok((Layers::from_vec(weights), Layers::from_vec(biases)))
}

/// Parses a file whose `format` entry must be `format` (a model file or a checkpoint).
pub(crate) fn parse(bytes: &[u8], format: &str) -> std::result::Result<Model, String> {
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| format!("not a safetensors file ({e})"))?;
    let metadata: BTreeMap<String, String> = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let get = |key: &str| {
        metadata
            .get(key)
            .ok_or_else(|| format!("metadata has no `{key}` entry: not a {format} file"))
    };
    if get("format")? != format {
        return Err(format!(
            "metadata `format` is `{}`, not `{format}`",
            get("format")?
        ));
    }
    if get("format_version")? != FORMAT_VERSION {
        return Err(format!(
            "format version {} is not supported (this version reads {FORMAT_VERSION})",
            get("format_version")?
        ));
    }
    let sizes = get("sizes")?
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("metadata `sizes` has a non-number `{s}`"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let activation = |key: &str| {
        Activation::from_name(get(key)?).ok_or_else(|| format!("unknown {key} `{}`", metadata[key]))
    };
    let cost = Cost::from_name(get("cost")?)
        .ok_or_else(|| format!("unknown cost `{}`", metadata["cost"]))?;
    let architecture = Architecture {
        sizes: sizes.clone(),
        hidden: activation("hidden_activation")?,
        output: activation("output_activation")?,
        cost,
    };
    architecture.validate().map_err(|e| e.to_string())?;
    let tensors =
        SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file ({e})"))?;
    check_sums(&tensors, &metadata)?;
    let (weights, biases) = read_layers(bytes, "", &sizes)?;
    let network = Network::from_parameters(
        architecture,
        weights.values().to_vec(),
        biases.values().to_vec(),
    )
    .map_err(|e| e.to_string())?;
    Ok(Model { network, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_and_load_round_trip() {
        let net: Network = Network::builder(&[5, 4, 3])
            .output(Activation::Softmax)
            .cost(Cost::LogLikelihood)
            .seed(2)
            .build()
            .unwrap();
        let dir = std::env::temp_dir().join(format!("backprop-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.safetensors");
        let extra = BTreeMap::from([("training".to_string(), "{\"eta\":3}".to_string())]);
        save(&net, &path, &extra).unwrap();
        let model = load(&path).unwrap();
        assert_eq!(model.network, net);
        assert_eq!(model.metadata["sizes"], "5,4,3");
        assert_eq!(model.metadata["training"], "{\"eta\":3}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let net: Network = Network::new(&[3, 2]).unwrap();
        let bytes = to_bytes(&net, &BTreeMap::new()).unwrap();
        assert!(from_bytes(&bytes[..bytes.len() - 3])
            .unwrap_err()
            .contains("safetensors"));
        assert!(from_bytes(b"hello")
            .unwrap_err()
            .contains("not a safetensors"));
        // The same tensors under metadata claiming sizes 3,4: the shapes disagree with it.
        let mut lying = bytes.clone();
        let at = lying.windows(5).position(|w| w == b"\"3,2\"").unwrap();
        lying[at + 3] = b'4';
        let err = from_bytes(&lying).unwrap_err();
        assert!(
            err.contains("shape") && err.contains("layers.2.weight"),
            "{err}"
        );
    }
}
