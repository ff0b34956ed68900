//! `tessera job template <kernel>`: a commented spec for each kernel. Every template parses
//! and plans (the tests below), so what a person copies is a working file.
use tessera_kernels::KernelId;

const COMMON: &str = r#"
# Replicas: independent nodes compute the job and their result roots are compared on chain
# (1..=8, and at most the network's max_replicas). Or `spot_check = true`: one replica,
# audited with the network's probability; the audit's expected cost is escrowed as a fee.
replicas = 3
# Reward per replica, in tokens of the network's mint (decimals from the mint).
reward = "0.5"
# From posting to the deadline: s, m, h, d (e.g. "90m", "1h30m"). At least the network's
# commit + reveal windows; at most its longest job.
deadline = "1h"

# Who may claim (all optional): GPU nodes only, with at least this much memory, in these
# region codes (0..32).
[requirements]
# gpu = true
# min_vram = "8 GiB"
# regions = [0, 3]
"#;

const RENDER: &str = r#"# A path-traced image, split into tiles: one job per tile, each verified on its own.
# `tessera job result JOB... --out image.png` assembles the tiles.
version = 1
kernel = "render"
{COMMON}
[render]
width = 256            # pixels, 1..=8192
height = 192
tile = [64, 64]        # pixels per job, at most 512 a side; leave out for one job
samples = 8            # per pixel, 1..=4096
max_depth = 4          # bounces per sample, 1..=16
seed = 7

# The scene: 1..=64 spheres and planes in all. Written next to this file as
# `<spec name>.scene` and referenced as file://; or give an existing scene file in
# [input] path = "…" instead.
[scene.camera]
origin = [0.0, 1.2, 4.0]
look_at = [0.0, 0.6, 0.0]
fov_deg = 48.5         # vertical field of view, degrees

[[scene.sphere]]
center = [0.0, 0.9, 0.0]
radius = 0.9
albedo = [0.9, 0.9, 0.9]   # reflectance per channel, 0..=1
material = "mirror"        # or "diffuse"

[[scene.sphere]]
center = [-1.9, 0.6, 0.5]
radius = 0.6
albedo = [0.85, 0.25, 0.2]
material = "diffuse"

[[scene.plane]]
normal = [0.0, 1.0, 0.0]   # the plane normal · p = offset
offset = 0.0
albedo = [0.6, 0.6, 0.55]
material = "diffuse"
"#;

const MATMUL: &str = r#"# C = A·B{WHAT}.
# `tessera job result JOB --out c.npy` writes C as a NumPy array ({DTYPE}, m×n).
version = 1
kernel = "{KERNEL}"
{COMMON}
[matmul]
m = 64                 # rows of A and C, 1..=4096
n = 48                 # columns of B and C
k = 32                 # columns of A, rows of B

# The input: A (m×k) then B (k×n), row-major, {LAYOUT}; m·k + k·n values.
# A local file (relative to this spec) is hashed and sized here and referenced as file://;
# an input hosted elsewhere needs its root (`tessera job root FILE`) and size.
[input]
path = "ab.bin"
# uri = "https://example.org/ab.bin"
# root = "<64 hex digits>"
# size_bytes = 20480
"#;

const MLP: &str = r#"# The forward pass of an int8 MLP over a batch: each layer computes int32 sums plus its
# bias; a hidden layer requantizes to int8 (shift right, clamp, ReLU); the last layer's int32
# sums are the logits. `tessera job result JOB --out logits.npy` writes them (int32,
# batch × outputs of the last layer).
version = 1
kernel = "mlp_infer"
{COMMON}
[mlp]
batch = 16             # rows, 1..=65536
inputs = 64            # width of a row, 1..=4096

[[mlp.layer]]          # 1..=4 layers
outputs = 32
shift = 7              # requantization shift, 0..=31

[[mlp.layer]]
outputs = 10
shift = 0

# The input: X (batch × inputs, i8), then per layer its weights (in × out, i8, row-major)
# and biases (out, i32 little-endian, |b| ≤ 2^30).
[input]
path = "mlp.bin"
"#;

const TRAIN: &str = r#"# Steps of full-batch gradient descent (mean squared error) on a one-hidden-layer ReLU MLP
# in f32. `tessera job result JOB --out model` writes the trained parameters (w1, b1, w2, b2
# as .npy) and model.json with this shape.
version = 1
kernel = "train_step"
{COMMON}
[train]
inputs = 64            # 1..=1024
hidden = 32            # 1..=1024
outputs = 10           # 1..=1024
batch = 128            # samples, 1..=1024
steps = 20             # 1..=1000
learning_rate = 0.05

# The input, f32 little-endian: X (batch × inputs), Y (batch × outputs), W1 (inputs ×
# hidden), b1 (hidden), W2 (hidden × outputs), b2 (outputs).
[input]
path = "train.bin"
"#;

/// The commented template for `kernel`.
pub fn template(kernel: KernelId) -> String {
    let text = match kernel {
        KernelId::Render => RENDER.to_string(),
        KernelId::MatmulF32 => MATMUL
            .replace("{WHAT}", " in f32, each sum strictly in k order")
            .replace("{DTYPE}", "float32")
            .replace("{LAYOUT}", "f32 little-endian, finite")
            .replace("{KERNEL}", "matmul_f32"),
        KernelId::MatmulI8 => MATMUL
            .replace("{WHAT}", " with int8 operands and exact int32 results")
            .replace("{DTYPE}", "int32")
            .replace("{LAYOUT}", "i8")
            .replace("{KERNEL}", "matmul_i8"),
        KernelId::MlpInfer => MLP.to_string(),
        KernelId::TrainStep => TRAIN.to_string(),
    };
    text.replace("{COMMON}", COMMON)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::JobSpec;

    /// Each template parses, and plans once its input file exists.
    #[test]
    fn every_template_is_a_working_spec() {
        let dir = std::env::temp_dir().join(format!("tessera-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for kernel in KernelId::ALL {
            let text = template(kernel);
            let spec = JobSpec::parse(&text).unwrap_or_else(|e| panic!("{kernel}: {e}\n{text}"));
            assert_eq!(spec.kernel, kernel.name());
            let jobs = spec.kernel_spec().unwrap().jobs().unwrap();
            if let Some(input) = &spec.input {
                let bytes = jobs[0].random_input(1);
                std::fs::write(dir.join(input.path.as_ref().unwrap()), bytes).unwrap();
            }
            let plan = spec
                .plan(&dir, "template", 6)
                .unwrap_or_else(|e| panic!("{kernel}: {e}"));
            assert_eq!(plan.replicas, 3);
            assert_eq!(plan.reward, 500_000);
            assert_eq!(plan.deadline_secs, 3_600);
            if kernel == KernelId::Render {
                assert_eq!(plan.jobs.len(), 4 * 3, "a 256×192 image in 64×64 tiles");
                assert!(plan.input.write.is_some());
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
