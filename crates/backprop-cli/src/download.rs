//! Fetching the standard data sets once into the user's cache directory, checked by SHA-256.

use crate::error::{CliError, CliResult};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// What a file's SHA-256 is taken over.
#[derive(Clone, Copy, Debug)]
pub enum Checksum {
    /// The bytes as downloaded (the `.gz` file).
    Gzipped(&'static str),
    /// The IDX bytes after decompression (for mirrors that recompress the same content).
    Unzipped(&'static str),
}

/// One file of a public mirror.
#[derive(Clone, Copy, Debug)]
pub struct Remote {
    pub file: &'static str,
    pub checksum: Checksum,
}

/// A data set that can be downloaded: its mirror and four files.
#[derive(Clone, Copy, Debug)]
pub struct Mirror {
    pub base_url: &'static str,
    pub files: [Remote; 4],
}

/// MNIST (LeCun, Cortes, Burges), the copy kept by Google's CVDF.
pub const MNIST: Mirror = Mirror {
    base_url: "https://storage.googleapis.com/cvdf-datasets/mnist/",
    files: [
        Remote {
            file: "train-images-idx3-ubyte.gz",
            checksum: Checksum::Gzipped(
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            ),
        },
        Remote {
            file: "train-labels-idx1-ubyte.gz",
            checksum: Checksum::Gzipped(
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            ),
        },
        Remote {
            file: "t10k-images-idx3-ubyte.gz",
            checksum: Checksum::Gzipped(
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            ),
        },
        Remote {
            file: "t10k-labels-idx1-ubyte.gz",
            checksum: Checksum::Gzipped(
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
        },
    ],
};

/// Fashion-MNIST (Zalando Research), its authors' mirror. The digests are of the decompressed
/// IDX content, which Debian's `dataset-fashion-mnist` (recompressed) shares with the mirror.
pub const FASHION_MNIST: Mirror = Mirror {
    base_url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    files: [
        Remote {
            file: "train-images-idx3-ubyte.gz",
            checksum: Checksum::Unzipped(
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ),
        },
        Remote {
            file: "train-labels-idx1-ubyte.gz",
            checksum: Checksum::Unzipped(
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ),
        },
        Remote {
            file: "t10k-images-idx3-ubyte.gz",
            checksum: Checksum::Unzipped(
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ),
        },
        Remote {
            file: "t10k-labels-idx1-ubyte.gz",
            checksum: Checksum::Unzipped(
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
        },
    ],
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `bytes` match the checksum.
pub fn verify(bytes: &[u8], checksum: Checksum) -> Result<(), String> {
    let (expected, digest) = match checksum {
        Checksum::Gzipped(h) => (h, Sha256::digest(bytes)),
        Checksum::Unzipped(h) => {
            let raw = backprop::io::idx::maybe_gunzip(bytes.to_vec())?;
            (h, Sha256::digest(&raw))
        }
    };
    let found = hex(&digest);
    if found == expected {
        Ok(())
    } else {
        Err(format!(
            "SHA-256 {found} does not match the expected {expected}"
        ))
    }
}

/// Downloads every missing file of `mirror` into `dir`, checking each before it is renamed into
/// place. `name` is the data set's name for messages.
pub fn fetch(mirror: &Mirror, dir: &Path, name: &str, quiet: bool) -> CliResult<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", dir.display())))?;
    for remote in &mirror.files {
        let target = dir.join(remote.file);
        if target.exists() {
            continue;
        }
        let url = format!("{}{}", mirror.base_url, remote.file);
        let bytes = get(&url, quiet).map_err(|e| {
            CliError::input(format!(
                "{name} is not on this machine and downloading {url} failed ({e}); put the four files \
                 (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, \
                 t10k-labels-idx1-ubyte.gz) in {} or in a directory named by --data-dir or $BACKPROP_DATA",
                dir.display()
            ))
        })?;
        verify(&bytes, remote.checksum)
            .map_err(|e| CliError::input(format!("{url}: {e}; the file was not kept")))?;
        backprop::io::file::write_atomically(&target, &bytes)?;
    }
    Ok(())
}

fn get(url: &str, quiet: bool) -> Result<Vec<u8>, String> {
    let response = ureq::get(url).call().map_err(|e| e.to_string())?;
    let len = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(len.unwrap_or(0))
    };
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}")
    {
        bar.set_style(style);
    }
    bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
    let mut reader = bar.wrap_read(response.into_body().into_reader());
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_checked() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(verify(b"", Checksum::Gzipped(empty)).is_ok());
        assert!(verify(b"x", Checksum::Gzipped(empty))
            .unwrap_err()
            .contains("does not match"));
    }

    /// Debian's recompressed Fashion-MNIST matches the digests of the content, when installed.
    #[test]
    fn debian_fashion_mnist_matches_the_mirror_digests() {
        let dir = Path::new("/usr/share/datasets/fashion-mnist");
        if !dir.exists() {
            return; // `.ci/run` installs it; a developer machine may not have it
        }
        for remote in FASHION_MNIST
            .files
            .iter()
            .filter(|r| r.file.contains("labels"))
        {
            let bytes = std::fs::read(dir.join(remote.file)).unwrap();
            verify(&bytes, remote.checksum).unwrap();
        }
    }
}
