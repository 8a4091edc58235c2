//! Which instruction set the matrix kernels use: [`Kernel`], chosen once per process.
//!
//! The best kernel the CPU runs is chosen on first use, unless the environment variable
//! [`KERNEL_ENV`] (`BACKPROP_KERNEL=avx512|avx2|portable`) names another one, or [`set_kernel`]
//! does. Each kernel computes every element of a product by one fixed sequence of operations, so
//! results never depend on the number of threads; between kernels they may differ in the last bits
//! (AVX-512 adds 16 partial sums where AVX2 adds 8).

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicU8, Ordering};

/// The environment variable that forces a kernel: `avx512`, `avx2` or `portable`.
pub const KERNEL_ENV: &str = "BACKPROP_KERNEL";

/// An instruction-set level of the crate's own `f32` matrix kernels (`f64` always runs on
/// [`Kernel::Portable`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Plain Rust, no intrinsics: what every CPU runs (aarch64, x86-64 without AVX2).
    Portable,
    /// x86-64 with AVX2 and FMA: 8 lanes of `f32`.
    Avx2,
    /// x86-64 with AVX-512 F (and AVX2, FMA): 16 lanes of `f32`.
    Avx512,
}

impl Kernel {
    /// Every kernel, from the simplest to the widest.
    pub const ALL: [Kernel; 3] = [Kernel::Portable, Kernel::Avx2, Kernel::Avx512];

    /// The name used by [`KERNEL_ENV`] and `backprop info`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// The kernel of that name (`avx512`, `avx2`, `portable`).
    pub fn from_name(name: &str) -> Result<Kernel> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name() == name.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                Error::InvalidSetting(format!(
                    "unknown kernel {name:?}: expected one of avx512, avx2, portable"
                ))
            })
    }

    /// The CPU features this kernel needs that this CPU lacks (empty: it can run here).
    pub fn missing_features(self) -> Vec<&'static str> {
        self.features()
            .iter()
            .copied()
            .filter(|f| !cpu_has(f))
            .collect()
    }

    /// Whether this CPU runs the kernel.
    pub fn is_supported(self) -> bool {
        self.missing_features().is_empty()
    }

    /// The CPU features the kernel needs.
    pub fn features(self) -> &'static [&'static str] {
        match self {
            Kernel::Portable => &[],
            Kernel::Avx2 => &["avx2", "fma"],
            Kernel::Avx512 => &["avx512f", "avx2", "fma"],
        }
    }

    /// The widest kernel this CPU runs.
    pub fn best() -> Kernel {
        *Kernel::supported().last().expect("portable always runs")
    }

    /// Every kernel this CPU runs, from the simplest to the widest (always starts with
    /// [`Kernel::Portable`]).
    pub fn supported() -> Vec<Kernel> {
        Kernel::ALL
            .into_iter()
            .filter(|k| k.is_supported())
            .collect()
    }

    /// The kernel [`KERNEL_ENV`] asks for, or [`Kernel::best`] when it is unset or empty. An
    /// unknown name, or a kernel this CPU cannot run, is an error that names the missing feature.
    pub fn from_env() -> Result<Kernel> {
        match std::env::var(KERNEL_ENV) {
            Ok(name) if !name.trim().is_empty() => {
                let kernel = Kernel::from_name(&name).map_err(|e| match e {
                    Error::InvalidSetting(m) => Error::InvalidSetting(format!("{KERNEL_ENV}: {m}")),
                    e => e,
                })?;
                kernel.check()?;
                Ok(kernel)
            }
            _ => Ok(Kernel::best()),
        }
    }

    /// `Ok` when this CPU runs the kernel, else an error naming what it lacks.
    pub fn check(self) -> Result<()> {
        let missing = self.missing_features();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidSetting(format!(
                "the {} kernel needs the CPU feature(s) {}, which this CPU lacks",
                self.name(),
                missing.join(", ")
            )))
        }
    }

    fn code(self) -> u8 {
        self as u8 + 1
    }

    fn from_code(code: u8) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the CPU has a feature, by the name `is_x86_feature_detected!` uses.
fn cpu_has(feature: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        match feature {
            "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
            "avx2" => std::arch::is_x86_feature_detected!("avx2"),
            "fma" => std::arch::is_x86_feature_detected!("fma"),
            _ => false,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = feature;
        false
    }
}

/// The CPU features the kernels look for, each with whether this CPU has it (for `backprop info`).
pub fn cpu_features() -> Vec<(&'static str, bool)> {
    ["avx512f", "avx2", "fma"]
        .into_iter()
        .map(|f| (f, cpu_has(f)))
        .collect()
}

/// 0: not chosen yet; otherwise [`Kernel::code`].
static KERNEL: AtomicU8 = AtomicU8::new(0);

/// The kernel the matrix products use. On first use it is [`Kernel::from_env`], or
/// [`Kernel::best`] when that is an error (call [`Kernel::from_env`] yourself to report it).
pub fn kernel_in_use() -> Kernel {
    if let Some(k) = Kernel::from_code(KERNEL.load(Ordering::Relaxed)) {
        return k;
    }
    let k = Kernel::from_env().unwrap_or_else(|_| Kernel::best());
    KERNEL.store(k.code(), Ordering::Relaxed);
    k
}

/// Makes every later product use `kernel`; an error (and no change) when this CPU cannot run it.
/// Like [`crate::kernel::threads::set_threads`], it is one setting for the whole process.
pub fn set_kernel(kernel: Kernel) -> Result<()> {
    kernel.check()?;
    KERNEL.store(kernel.code(), Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for k in Kernel::ALL {
            assert_eq!(Kernel::from_name(k.name()).unwrap(), k);
        }
        let err = Kernel::from_name("sse9").unwrap_err().to_string();
        assert!(err.contains("avx512, avx2, portable"), "{err}");
    }

    #[test]
    fn portable_runs_everywhere_and_the_best_is_supported() {
        assert_eq!(Kernel::supported()[0], Kernel::Portable);
        assert!(Kernel::best().is_supported());
        assert!(Kernel::Portable.check().is_ok());
        for k in Kernel::ALL.into_iter().filter(|k| !k.is_supported()) {
            let err = set_kernel(k).unwrap_err().to_string();
            assert!(err.contains(k.missing_features()[0]), "{err}");
        }
    }
}
