//! The sizes of the CPU's data caches, read once at run time, for the kernels' blocking: the
//! products go through `B` in blocks that fit a share of the L2 cache of the CPU they run on,
//! not of the one they were tuned on (512 KiB on Zen 3, 1 MiB on Zen 4 and 5, 2 MiB on recent
//! Xeons).
//!
//! On x86-64 the sizes come from CPUID (leaf 4 on Intel, leaves `8000_0005h`/`8000_0006h` on AMD
//! and Hygon); elsewhere from Linux's `/sys/devices/system/cpu/cpu0/cache`. Where neither answers,
//! [`Caches::FALLBACK`] (32 KiB and 512 KiB, the smallest of the CPUs above). Sizes change only
//! speed, never results.

use std::sync::OnceLock;

/// Data cache sizes of one core, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caches {
    /// The level-1 data cache.
    pub l1d: usize,
    /// The level-2 cache (data or unified).
    pub l2: usize,
}

impl Caches {
    /// What the kernels assume when the CPU does not say.
    pub const FALLBACK: Caches = Caches {
        l1d: 32 * 1024,
        l2: 512 * 1024,
    };
}

/// The caches of the CPU this process runs on (read once).
pub fn caches() -> Caches {
    static CACHES: OnceLock<Caches> = OnceLock::new();
    *CACHES.get_or_init(|| read().unwrap_or(Caches::FALLBACK))
}

#[cfg(target_arch = "x86_64")]
#[allow(unused_unsafe)] // `__cpuid` is safe since Rust 1.94, unsafe before
fn read() -> Option<Caches> {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    // SAFETY: CPUID exists on every x86-64 CPU; leaf 0 is always valid.
    let leaf0 = unsafe { __cpuid(0) };
    let vendor: Vec<u8> = [leaf0.ebx, leaf0.edx, leaf0.ecx]
        .iter()
        .flat_map(|r| r.to_le_bytes())
        .collect();
    if vendor == b"AuthenticAMD" || vendor == b"HygonGenuine" {
        // SAFETY: leaf 8000_0000h is always valid and gives the highest extended leaf.
        let max_extended = unsafe { __cpuid(0x8000_0000) }.eax;
        if max_extended < 0x8000_0006 {
            return None;
        }
        // SAFETY: both leaves are at most the highest extended leaf.
        let (l1, l2) = unsafe { (__cpuid(0x8000_0005), __cpuid(0x8000_0006)) };
        let l1d = (l1.ecx >> 24) as usize * 1024; // ECX[31:24]: L1d in KiB
        let l2 = (l2.ecx >> 16) as usize * 1024; // ECX[31:16]: L2 in KiB
        return (l1d > 0 && l2 > 0).then_some(Caches { l1d, l2 });
    }
    if leaf0.eax < 4 {
        return None;
    }
    // Leaf 4 (Intel's deterministic cache parameters): one sub-leaf per cache, until type 0.
    let (mut l1d, mut l2) = (0, 0);
    for sub in 0..16 {
        // SAFETY: leaf 4 is at most the highest standard leaf (checked above).
        let r = unsafe { __cpuid_count(4, sub) };
        let kind = r.eax & 0x1F; // 1 data, 2 instruction, 3 unified
        if kind == 0 {
            break;
        }
        let level = (r.eax >> 5) & 0x7;
        let ways = ((r.ebx >> 22) & 0x3FF) as usize + 1;
        let partitions = ((r.ebx >> 12) & 0x3FF) as usize + 1;
        let line = (r.ebx & 0xFFF) as usize + 1;
        let sets = r.ecx as usize + 1;
        let size = ways * partitions * line * sets;
        match (level, kind) {
            (1, 1 | 3) => l1d = size,
            (2, 1 | 3) => l2 = size,
            _ => {}
        }
    }
    (l1d > 0 && l2 > 0).then_some(Caches { l1d, l2 })
}

#[cfg(not(target_arch = "x86_64"))]
fn read() -> Option<Caches> {
    let dir = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    let (mut l1d, mut l2) = (0, 0);
    for index in std::fs::read_dir(dir).ok()?.flatten() {
        let field = |name: &str| std::fs::read_to_string(index.path().join(name)).ok();
        let (Some(level), Some(kind), Some(size)) = (field("level"), field("type"), field("size"))
        else {
            continue;
        };
        let size = size.trim();
        let bytes = match size.strip_suffix('K') {
            Some(kib) => kib.parse::<usize>().ok()? * 1024,
            None => match size.strip_suffix('M') {
                Some(mib) => mib.parse::<usize>().ok()? * 1024 * 1024,
                None => size.parse().ok()?,
            },
        };
        match (level.trim(), kind.trim()) {
            ("1", "Data" | "Unified") => l1d = bytes,
            ("2", "Data" | "Unified") => l2 = bytes,
            _ => {}
        }
    }
    (l1d > 0 && l2 > 0).then_some(Caches { l1d, l2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caches_are_plausible() {
        let c = caches();
        assert!((8 * 1024..=1024 * 1024).contains(&c.l1d), "{c:?}");
        assert!((128 * 1024..=64 * 1024 * 1024).contains(&c.l2), "{c:?}");
        assert!(c.l2 > c.l1d, "{c:?}");
    }
}
