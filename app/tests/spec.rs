//! Job spec files (`docs/job-spec.md`): every kernel's spec round-trips through the bytes a
//! job stores (spec → params → the kernel's decoder → spec), and a malformed spec is refused
//! with one line that names the field.
use std::path::{Path, PathBuf};

use tessera_app::spec::{JobSpec, KernelSpec, SceneSpec};
use tessera_kernels::{Job, KernelId};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tessera-spec-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn plan_text(text: &str, dir: &Path) -> Result<tessera_app::spec::Plan, String> {
    let spec = JobSpec::parse(text).map_err(|e| e.to_string())?;
    spec.plan(dir, "job", 6).map_err(|e| e.to_string())
}

/// spec → params bytes → decoded kernel params → spec, for each kernel.
#[test]
fn every_kernels_spec_round_trips_through_its_params() {
    let dir = Dir::new("round-trip");
    let cases = [
        (
            KernelId::Render,
            "[render]\nwidth = 100\nheight = 60\ntile = [32, 32]\nsamples = 3\nmax_depth = 5\nseed = 99\n",
        ),
        (
            KernelId::Render,
            "[render]\nwidth = 40\nheight = 30\nsamples = 1\nmax_depth = 1\n",
        ),
        (KernelId::MatmulF32, "[matmul]\nm = 17\nn = 4096\nk = 3\n"),
        (KernelId::MatmulI8, "[matmul]\nm = 1\nn = 2\nk = 300\n"),
        (
            KernelId::MlpInfer,
            "[mlp]\nbatch = 5\ninputs = 12\n[[mlp.layer]]\noutputs = 9\nshift = 6\n[[mlp.layer]]\noutputs = 7\nshift = 0\n[[mlp.layer]]\noutputs = 3\nshift = 31\n",
        ),
        (
            KernelId::TrainStep,
            "[train]\ninputs = 8\nhidden = 16\noutputs = 4\nbatch = 32\nsteps = 12\nlearning_rate = 0.125\n",
        ),
    ];
    for (kernel, section) in cases {
        let spec = JobSpec::parse(&format!(
            "version = 1\nkernel = \"{kernel}\"\nreward = 2\n{section}"
        ))
        .unwrap();
        let original = spec.kernel_spec().unwrap();
        let jobs = original.jobs().unwrap();
        // Through the bytes a job stores on chain and the kernel's own decoder.
        let decoded: Vec<Job> = jobs
            .iter()
            .map(|j| Job::decode(kernel as u8, &j.encode_params()).unwrap())
            .collect();
        assert_eq!(decoded, jobs);
        assert_eq!(
            KernelSpec::from_jobs(&decoded).as_ref(),
            Some(&original),
            "{kernel}"
        );
        if kernel != KernelId::Render {
            assert_eq!(jobs.len(), 1);
            let input = dir.0.join(format!("{kernel}.bin"));
            std::fs::write(&input, jobs[0].random_input(5)).unwrap();
            let text = format!(
                "version = 1\nkernel = \"{kernel}\"\nreward = 2\n[input]\npath = \"{}\"\n{section}",
                input.display()
            );
            let plan = plan_text(&text, &dir.0).unwrap();
            assert_eq!(plan.jobs, jobs);
            assert_eq!(plan.input.size, jobs[0].input_len() as u64);
        }
    }
    // A 100×60 image in 32×32 tiles: 4 × 2 jobs, the edges cut to the image.
    let spec = JobSpec::parse(&format!(
        "version = 1\nkernel = \"render\"\nreward = 2\n{}",
        cases[0].1
    ))
    .unwrap();
    let jobs = spec.kernel_spec().unwrap().jobs().unwrap();
    assert_eq!(jobs.len(), 8);
    let Job::Render(last) = jobs[7] else { panic!() };
    assert_eq!(
        (last.tile_x, last.tile_y, last.tile_w, last.tile_h),
        (96, 32, 4, 28)
    );
}

/// A scene by name → the kernel's input bytes → the scene → the same bytes.
#[test]
fn a_scene_round_trips_through_the_kernels_input() {
    let text = tessera_app::spec::templates::template(KernelId::Render);
    let spec = JobSpec::parse(&text).unwrap();
    let scene = spec.scene.clone().unwrap();
    let bytes = scene.encode("scene").unwrap();
    let params = match spec.kernel_spec().unwrap().jobs().unwrap()[0] {
        Job::Render(p) => p,
        _ => unreachable!(),
    };
    use tessera_kernels::Kernel;
    tessera_kernels::Render::check_input(&params, &bytes).unwrap();
    let back = SceneSpec::decode(&bytes).unwrap();
    assert_eq!(back.encode("scene").unwrap(), bytes);
    assert_eq!(back.spheres, scene.spheres);
    assert_eq!(back.planes, scene.planes);
    assert!((back.camera.fov_deg - scene.camera.fov_deg).abs() < 1e-5);
}

/// Each malformed spec gives one line naming the field.
#[test]
fn malformed_specs_name_the_field_in_one_line() {
    let dir = Dir::new("malformed");
    let input = dir.0.join("ab.bin");
    std::fs::write(&input, vec![0u8; 4 * (2 * 3 + 3 * 4)]).unwrap();
    let matmul = format!(
        "version = 1\nkernel = \"matmul_f32\"\nreward = \"1.5\"\n[input]\npath = \"{}\"\n[matmul]\nm = 2\nn = 4\nk = 3\n",
        input.display()
    );
    assert!(plan_text(&matmul, &dir.0).is_ok());
    let render = tessera_app::spec::templates::template(KernelId::Render);
    assert!(plan_text(&render, &dir.0).is_ok());
    let cases: Vec<(String, &str, &str)> = vec![
        // unknown field
        (
            render.replace("samples = 8", "sampels = 8"),
            "field `render.sampels`",
            "unknown field",
        ),
        (
            format!("colour = 1\n{matmul}"),
            "field `colour`",
            "unknown field",
        ),
        // missing field
        (
            render.replace("samples = 8 ", "# samples = 8 "),
            "field `render.samples`",
            "missing field `samples`",
        ),
        (
            matmul.replace("reward = \"1.5\"\n", ""),
            "field `reward`",
            "missing field `reward`",
        ),
        // wrong unit
        (
            matmul.replace("reward = \"1.5\"", "reward = \"1.5\"\ndeadline = \"10 parsecs\""),
            "field `deadline`",
            "unknown unit `p`",
        ),
        (
            matmul.replace("reward = \"1.5\"", "reward = \"1.5\"\ndeadline = \"3600\""),
            "field `deadline`",
            "needs a unit",
        ),
        (
            matmul.replace("[input]", "[requirements]\nmin_vram = \"8\"\n[input]"),
            "field `requirements.min_vram`",
            "needs a unit",
        ),
        (
            matmul.replace("[input]", "[requirements]\nmin_vram = \"8 GB\"\n[input]"),
            "field `requirements.min_vram`",
            "binary units",
        ),
        (
            matmul.replace("\"1.5\"", "\"1.0000001\""),
            "field `reward`",
            "at most 6",
        ),
        // out of bounds
        (
            render.replace("samples = 8", "samples = 0"),
            "field `render.samples`",
            "0 is out of bounds 1..=4096",
        ),
        (
            render.replace("width = 256", "width = 9000"),
            "field `render.width`",
            "out of bounds 1..=8192",
        ),
        (
            matmul.replace("m = 2", "m = 5000"),
            "field `matmul.m`",
            "5000 is out of bounds 1..=4096",
        ),
        (
            render.replace("radius = 0.9", "radius = -1"),
            "field `scene.sphere[0].radius`",
            "must be > 0",
        ),
        (
            render.replace("fov_deg = 48.5", "fov_deg = 180"),
            "field `scene.camera.fov_deg`",
            "0 < fov < 180",
        ),
        (
            matmul.replace("reward = \"1.5\"", "reward = \"1.5\"\nreplicas = 9"),
            "field `replicas`",
            "out of bounds 1..=8",
        ),
        (
            matmul.replace("[input]", "[requirements]\nregions = [32]\n[input]"),
            "field `requirements.regions`",
            "out of bounds 0..=31",
        ),
        // missing input, or an input that does not fit
        (
            matmul.replace(&format!("[input]\npath = \"{}\"\n", input.display()), ""),
            "field `input.path`",
            "missing",
        ),
        (
            matmul.replace("k = 3", "k = 4"),
            "field `input.path`",
            "needs 96",
        ),
        (
            matmul.replace(&input.display().to_string(), "/nonexistent/ab.bin"),
            "field `input.path`",
            "cannot read /nonexistent/ab.bin",
        ),
        (
            matmul.replace(
                &format!("path = \"{}\"", input.display()),
                "uri = \"https://example.org/ab.bin\"",
            ),
            "field `input.root`",
            "needs its root",
        ),
        (
            matmul.replace(
                &format!("path = \"{}\"", input.display()),
                &format!("uri = \"https://example.org/ab.bin\"\nroot = \"{}\"\nsize_bytes = 50", "ab".repeat(32)),
            ),
            "field `input.size_bytes`",
            "needs 72",
        ),
        // wrong type, wrong section, wrong kernel, wrong version
        (
            render.replace("samples = 8", "samples = \"eight\""),
            "field `render.samples`",
            "invalid type",
        ),
        (
            format!("{matmul}[train]\ninputs = 1\nhidden = 1\noutputs = 1\nbatch = 1\nsteps = 1\nlearning_rate = 0.1\n"),
            "field `train`",
            "does not belong to kernel matmul_f32",
        ),
        (
            matmul.replace("matmul_f32", "matmul_f64"),
            "field `kernel`",
            "unknown kernel `matmul_f64`",
        ),
        (
            matmul.replace("version = 1", "version = 2"),
            "field `version`",
            "reads version 1",
        ),
        (
            "version = 1\nkernel = \"mlp_infer\"\nreward = 1\n".to_string(),
            "field `mlp`",
            "needs a [mlp] section",
        ),
    ];
    for (text, field, why) in cases {
        let err = plan_text(&text, &dir.0).expect_err(field);
        assert!(!err.contains('\n'), "one line: {err}");
        assert!(err.starts_with(field), "{err} should name {field}");
        assert!(err.contains(why), "{err} should say {why}");
    }
}
