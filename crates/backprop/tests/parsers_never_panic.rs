//! Random and mutated bytes fed to every parser: an error, never a panic.

use backprop::io::csv::{parse_csv, Scale};
use backprop::io::{idx, model_file};
use backprop::Network;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

fn valid_idx() -> (Vec<u8>, Vec<u8>) {
    let mut images = 0x803u32.to_be_bytes().to_vec();
    [2u32, 2, 2]
        .iter()
        .for_each(|s| images.extend(s.to_be_bytes()));
    images.extend([1, 2, 3, 4, 5, 6, 7, 8]);
    let mut labels = 0x801u32.to_be_bytes().to_vec();
    labels.extend(2u32.to_be_bytes());
    labels.extend([0, 1]);
    (images, labels)
}

fn valid_model() -> Vec<u8> {
    let net: Network = Network::new(&[3, 2, 2]).unwrap();
    model_file::to_bytes(&net, &BTreeMap::new()).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `bytes` with some positions overwritten.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    for &(at, v) in edits {
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = v;
        }
    }
    let keep = bytes.len() - cut % (bytes.len() + 1);
    bytes.truncate(keep);
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = idx::parse(&bytes, idx::IMAGES_MAGIC);
        let _ = idx::dataset_from_idx_bytes(bytes.clone(), bytes.clone(), 10, Path::new("x"));
        let _ = model_file::from_bytes(&bytes);
        let _ = parse_csv(&bytes, 0, Scale::Auto, Path::new("x"));
        let _ = idx::maybe_gunzip(bytes);
    }

    #[test]
    fn mutated_idx(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in any::<usize>(), zipped in any::<bool>()) {
        let (images, labels) = valid_idx();
        let (images, labels) = if zipped { (gzip(&images), gzip(&labels)) } else { (images, labels) };
        let _ = idx::dataset_from_idx_bytes(mutate(images.clone(), &edits, cut), labels.clone(), 10, Path::new("x"));
        let _ = idx::dataset_from_idx_bytes(images, mutate(labels, &edits, cut), 10, Path::new("x"));
    }

    #[test]
    fn mutated_model(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in any::<usize>()) {
        let _ = model_file::from_bytes(&mutate(valid_model(), &edits, cut));
    }

    #[test]
    fn mutated_csv(edits in prop::collection::vec((any::<usize>(), prop::sample::select(b",0123456789.\n-x e".to_vec())), 0..6), cut in any::<usize>(), column in 0usize..4) {
        let text = b"label,a,b\n1,0.5,2\n0,1e3,-4\n2,3,3\n".to_vec();
        let _ = parse_csv(&mutate(text, &edits, cut), column, Scale::Auto, Path::new("x"));
    }
}

#[test]
fn the_unmutated_inputs_parse() {
    let (images, labels) = valid_idx();
    assert_eq!(
        idx::dataset_from_idx_bytes(images, labels, 10, Path::new("x"))
            .unwrap()
            .len(),
        2
    );
    assert!(model_file::from_bytes(&valid_model()).is_ok());
}
