//! What this machine offers, from the kernels crate's backend.
use tessera_kernels::Backend;
use tessera_sdk::tessera::state::{HardwareKind, HardwareProfile};

/// The node's hardware profile for `backend`.
pub fn profile(backend: &Backend) -> HardwareProfile {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu_cores = u16::try_from(cores).unwrap_or(u16::MAX);
    match backend {
        Backend::Cuda(gpu) => {
            let ctx = gpu.context();
            let vram = ctx.total_mem().map_or(0, |b| b / (1 << 20));
            let (major, minor) = ctx.compute_capability().unwrap_or((0, 0));
            let mut model: String = gpu
                .name()
                .chars()
                .filter(|c| (' '..='~').contains(c))
                .collect();
            model.truncate(32);
            HardwareProfile {
                kind: HardwareKind::Gpu,
                gpu_model: model,
                vram_mib: u32::try_from(vram).unwrap_or(u32::MAX),
                compute_capability: u16::try_from(major * 10 + minor).unwrap_or(0),
                cpu_cores,
            }
        }
        Backend::Cpu(_) => HardwareProfile {
            kind: HardwareKind::CpuOnly,
            gpu_model: String::new(),
            vram_mib: 0,
            compute_capability: 0,
            cpu_cores,
        },
    }
}
