//! Where kernels run: a CPU thread pool, or a CUDA device through cudarc.
//!
//! cudarc loads libcuda and libnvrtc at run time. Both are probed with `is_culib_present()`
//! before any cudarc call that would touch them (those calls panic when the library is
//! missing), so a machine without a GPU gets a clean "CPU fallback", never a panic.
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use cudarc::driver::{CudaContext, CudaFunction, CudaModule, CudaStream};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions, Ptx};

use crate::{KernelError, KernelId};

/// A CPU thread pool. Kernels parallelize only across independent outputs, so the result
/// does not depend on the number of threads.
pub struct Cpu {
    pool: rayon::ThreadPool,
}

impl Cpu {
    /// A pool of `threads` threads (0: one per core).
    pub fn new(threads: usize) -> Result<Self, KernelError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("tessera-cpu-{i}"))
            .build()
            .map_err(|e| KernelError::Cuda(format!("cannot start the CPU thread pool: {e}")))?;
        Ok(Self { pool })
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Runs `f` inside the pool (rayon's parallel iterators then use its threads).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }
}

/// Whether libcuda (the driver) can be loaded.
pub fn cuda_driver_present() -> bool {
    // SAFETY: only tries to dlopen the library and drops it.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Whether libnvrtc can be loaded.
pub fn nvrtc_present() -> bool {
    // SAFETY: only tries to dlopen the library and drops it.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// The NVRTC options every kernel is compiled with: no contraction of multiply and add into
/// FMA, IEEE division and square root, denormals kept — the same arithmetic as the CPU.
pub fn compile_options(arch: Option<&'static str>) -> CompileOptions {
    CompileOptions {
        fmad: Some(false),
        prec_div: Some(true),
        prec_sqrt: Some(true),
        ftz: Some(false),
        use_fast_math: None,
        arch,
        ..Default::default()
    }
}

/// Compiles `source` to PTX text with [`compile_options`]. Needs libnvrtc, not a GPU.
pub fn compile_ptx(
    kernel: KernelId,
    source: &str,
    arch: Option<&'static str>,
) -> Result<String, KernelError> {
    if !nvrtc_present() {
        return Err(KernelError::CudaUnavailable(
            "libnvrtc not found (put the NVRTC library on LD_LIBRARY_PATH)".into(),
        ));
    }
    let ptx =
        compile_ptx_with_opts(source, compile_options(arch)).map_err(|e| KernelError::Compile {
            kernel,
            log: e.to_string(),
        })?;
    Ok(ptx.to_src())
}

/// A CUDA device with a stream, and each kernel's module compiled once for it.
pub struct Gpu {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    name: String,
    arch: &'static str,
    modules: Mutex<HashMap<KernelId, Arc<CudaModule>>>,
}

impl Gpu {
    /// Opens device `ordinal`, or says why it cannot.
    pub fn open(ordinal: usize) -> Result<Self, KernelError> {
        if !cuda_driver_present() {
            return Err(KernelError::CudaUnavailable(
                "libcuda not found (no NVIDIA driver)".into(),
            ));
        }
        if !nvrtc_present() {
            return Err(KernelError::CudaUnavailable(
                "libnvrtc not found (put the NVRTC library on LD_LIBRARY_PATH)".into(),
            ));
        }
        let ctx = CudaContext::new(ordinal)
            .map_err(|e| KernelError::CudaUnavailable(format!("device {ordinal}: {e}")))?;
        let name = ctx.name()?;
        let (major, minor) = ctx.compute_capability()?;
        // NVRTC wants a &'static str; one string per opened device.
        let arch: &'static str = Box::leak(format!("compute_{major}{minor}").into_boxed_str());
        let stream = ctx.default_stream();
        Ok(Self {
            ctx,
            stream,
            name,
            arch,
            modules: Mutex::new(HashMap::new()),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The virtual architecture kernels are compiled for, e.g. `compute_90`.
    pub fn arch(&self) -> &'static str {
        self.arch
    }

    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }

    /// Function `name` of `kernel`'s module, compiling the module on first use.
    pub fn function(
        &self,
        kernel: KernelId,
        source: &str,
        name: &str,
    ) -> Result<CudaFunction, KernelError> {
        let module = {
            let mut modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
            match modules.get(&kernel) {
                Some(module) => module.clone(),
                None => {
                    let ptx = compile_ptx(kernel, source, Some(self.arch))?;
                    let module = self.ctx.load_module(Ptx::from_src(ptx))?;
                    modules.insert(kernel, module.clone());
                    module
                }
            }
        };
        Ok(module.load_function(name)?)
    }
}

/// What to run kernels on.
pub enum Backend {
    Cpu(Cpu),
    Cuda(Gpu),
}

impl Backend {
    pub fn describe(&self) -> String {
        match self {
            Backend::Cpu(cpu) => format!("CPU ({} threads)", cpu.threads()),
            Backend::Cuda(gpu) => format!("CUDA ({}, {})", gpu.name(), gpu.arch()),
        }
    }
}

/// The backend asked for: chosen once, and forceable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// CUDA when a device can be opened, else the CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(format!("unknown backend `{other}`: use auto, cpu or cuda")),
        }
    }
}

impl std::fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        })
    }
}

/// Opens the backend `choice` asks for. With `Auto` and no usable GPU it returns the CPU and
/// the reason (the "CPU fallback" line a worker logs); forcing `Cuda` without one is an error.
pub fn select(
    choice: BackendChoice,
    cpu_threads: usize,
) -> Result<(Backend, Option<String>), KernelError> {
    match choice {
        BackendChoice::Cpu => Ok((Backend::Cpu(Cpu::new(cpu_threads)?), None)),
        BackendChoice::Cuda => Ok((Backend::Cuda(Gpu::open(0)?), None)),
        BackendChoice::Auto => match Gpu::open(0) {
            Ok(gpu) => Ok((Backend::Cuda(gpu), None)),
            Err(why) => Ok((
                Backend::Cpu(Cpu::new(cpu_threads)?),
                Some(format!("CPU fallback: {why}")),
            )),
        },
    }
}
