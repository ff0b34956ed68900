//! CUDA without a GPU: every kernel's source compiles through NVRTC with the determinism
//! options, the f32 kernels' PTX holds no fused multiply-add, and the backend falls back to
//! the CPU cleanly when no driver is present.
//!
//! NVRTC needs no GPU, only `libnvrtc` on `LD_LIBRARY_PATH` (`scripts/nvrtc.sh` installs
//! NVIDIA's PyPI wheel). With `TESSERA_REQUIRE_NVRTC=1` (set by `scripts/test.sh`) a missing
//! library fails the test instead of skipping it.
use tessera_kernels::backend::{self, compile_ptx, cuda_driver_present, nvrtc_present};
use tessera_kernels::{cuda_sources, BackendChoice, KernelError, KernelId};

fn nvrtc_required() -> bool {
    std::env::var("TESSERA_REQUIRE_NVRTC").is_ok_and(|v| v == "1")
}

/// The arithmetic instructions of the PTX body (comments and directives dropped).
fn instructions(ptx: &str) -> impl Iterator<Item = &str> {
    ptx.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('.'))
}

#[test]
fn every_cuda_source_compiles_without_fma() {
    if !nvrtc_present() {
        assert!(
            !nvrtc_required(),
            "TESSERA_REQUIRE_NVRTC=1 but libnvrtc is not on LD_LIBRARY_PATH (run scripts/nvrtc.sh)"
        );
        eprintln!("skipped: libnvrtc not found (scripts/nvrtc.sh installs it)");
        return;
    }
    for (kernel, source) in cuda_sources() {
        for arch in [None, Some("compute_80"), Some("compute_90")] {
            let ptx = compile_ptx(kernel, source, arch)
                .unwrap_or_else(|e| panic!("{kernel} ({arch:?}): {e}"));
            assert!(
                ptx.contains(".entry"),
                "{kernel}: no kernel entry in the PTX"
            );
            let fused: Vec<&str> = instructions(&ptx)
                .filter(|l| l.starts_with("fma.") || l.starts_with("mad.f"))
                .collect();
            assert!(fused.is_empty(), "{kernel} ({arch:?}) fuses: {fused:?}");
            if matches!(
                kernel,
                KernelId::Render | KernelId::MatmulF32 | KernelId::TrainStep
            ) {
                // The f32 kernels really do multiply and add, separately rounded.
                let count = |op: &str| instructions(&ptx).filter(|l| l.starts_with(op)).count();
                assert!(count("mul.rn.f32") > 0, "{kernel}: no mul.rn.f32");
                assert!(count("add.rn.f32") > 0, "{kernel}: no add.rn.f32");
                println!(
                    "{kernel} {}: {} mul.rn.f32, {} add.rn.f32, 0 fma",
                    arch.unwrap_or("default"),
                    count("mul.rn.f32"),
                    count("add.rn.f32")
                );
            }
        }
    }
}

#[test]
fn the_fma_check_sees_fma_when_nvrtc_may_fuse() {
    if !nvrtc_present() {
        return;
    }
    // The same kind of code with NVRTC's default (--fmad=true) does fuse: the check above
    // would catch a kernel compiled without the determinism options.
    let source = r#"extern "C" __global__ void k(float* x) { x[0] = x[1] * x[2] + x[3]; }"#;
    let opts = cudarc::nvrtc::CompileOptions {
        fmad: Some(true),
        ..Default::default()
    };
    let ptx = cudarc::nvrtc::compile_ptx_with_opts(source, opts)
        .unwrap()
        .to_src();
    assert!(instructions(&ptx).any(|l| l.starts_with("fma.")), "{ptx}");
    let ours = compile_ptx(KernelId::Render, source, None).unwrap();
    assert!(
        !instructions(&ours).any(|l| l.starts_with("fma.")),
        "{ours}"
    );
}

#[test]
fn a_compile_error_is_reported_not_panicked() {
    if !nvrtc_present() {
        return;
    }
    let err = compile_ptx(KernelId::Render, "this is not CUDA", None).unwrap_err();
    assert!(matches!(err, KernelError::Compile { .. }), "{err}");
}

#[test]
fn without_a_driver_the_backend_falls_back_to_the_cpu() {
    if cuda_driver_present() {
        eprintln!("a CUDA driver is present: the fallback is not exercised here");
        return;
    }
    let (backend, why) = backend::select(BackendChoice::Auto, 2).expect("auto never fails");
    assert!(matches!(backend, tessera_kernels::Backend::Cpu(_)));
    let why = why.expect("a reason for the fallback");
    assert!(why.starts_with("CPU fallback: "), "{why}");
    println!("{why}");
    let forced = backend::select(BackendChoice::Cuda, 2);
    assert!(matches!(forced, Err(KernelError::CudaUnavailable(_))));
    let (cpu, why) = backend::select(BackendChoice::Cpu, 1).unwrap();
    assert!(why.is_none());
    assert_eq!(cpu.describe(), "CPU (1 threads)");
    assert_eq!("cuda".parse::<BackendChoice>(), Ok(BackendChoice::Cuda));
    assert!("gpu".parse::<BackendChoice>().is_err());
}
