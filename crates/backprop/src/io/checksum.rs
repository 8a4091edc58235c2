//! CRC-32 (IEEE, as zlib and Python's `zlib.crc32` compute it, by `flate2`) of numbers written
//! little-endian: the same on every machine, for the tensor checksums of model files and the
//! fingerprints of data sets.

/// Adds `values` to `crc` as little-endian 32-bit words, a few KiB at a time.
pub(crate) fn crc_words(crc: &mut flate2::Crc, values: impl Iterator<Item = u32>) {
    let mut buffer = Vec::with_capacity(4096);
    for v in values {
        buffer.extend(v.to_le_bytes());
        if buffer.len() >= 4096 {
            crc.update(&buffer);
            buffer.clear();
        }
    }
    crc.update(&buffer);
}

/// The CRC-32 of `values` as little-endian bytes (what a safetensors file holds for them).
pub(crate) fn crc32_f32(values: &[f32]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc_words(&mut crc, values.iter().map(|x| x.to_bits()));
    crc.sum()
}
