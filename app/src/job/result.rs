//! `tessera job result`: the accepted output, downloaded from a worker that revealed it and
//! checked against the job's root, written in its natural form — a render as PNG (the tiles
//! of several render jobs assembled into their image), a matrix or logits as `.npy`, a trained
//! model as a folder of `.npy` parameters with `model.json`; `--raw` for the bytes.
use std::path::Path;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use tessera_kernels::kernels::{RenderParams, TrainParams};
use tessera_kernels::{merkle, Job as KernelJob};
use tessera_sdk::chain::{fetch, Chain};
use tessera_sdk::tessera::state::{Job, Node, SlotState};
use tessera_worker::store::hex;

use super::{job_at, status};
use crate::bank::write_png;

/// Downloads job `address`'s accepted output from a worker that revealed it; only bytes whose
/// root is the accepted one are returned.
pub async fn download<C: Chain>(
    chain: &C,
    address: &Pubkey,
    job: &Job,
) -> anyhow::Result<(Vec<u8>, String)> {
    let root = job
        .result_root
        .with_context(|| format!("job {address} has no accepted result ({})", status(job)))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut errors = Vec::new();
    for slot in job
        .slots
        .iter()
        .filter(|s| s.state == SlotState::Revealed && s.root == root)
    {
        let Some(node) = fetch::<Node, _>(chain, &slot.node).await? else {
            continue;
        };
        let url = format!(
            "{}/v1/results/{}",
            node.endpoint.trim_end_matches('/'),
            hex(&root)
        );
        match client.get(&url).send().await {
            Ok(response) if response.status().is_success() => {
                let bytes = response.bytes().await?;
                if merkle::root(&bytes) != root {
                    errors.push(format!("{url}: the bytes do not match the accepted root"));
                    continue;
                }
                return Ok((bytes.to_vec(), url));
            }
            Ok(response) if response.status() == reqwest::StatusCode::TOO_EARLY => {
                errors.push(format!(
                    "{url}: HTTP 425 Too Early (the worker serves it once the job has settled)"
                ))
            }
            Ok(response) => errors.push(format!("{url}: HTTP {}", response.status())),
            Err(e) => errors.push(format!("{url}: unreachable ({e})")),
        }
    }
    bail!(
        "no winning worker of job {address} served the result:\n  {}",
        errors.join("\n  ")
    )
}

/// Writes a NumPy `.npy` (format 1.0) of little-endian values: `descr` `<f4` or `<i4`.
pub fn write_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8]) -> anyhow::Result<()> {
    let count: usize = shape.iter().product();
    anyhow::ensure!(
        data.len() == count * 4,
        "{} bytes for a {shape:?} array of 4-byte values",
        data.len()
    );
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Magic (6) + version (2) + length (2) + header, padded to a multiple of 64, ending in \n.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
}

fn extension_is(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// The tiles of one image, placed: RGBA, transparent where no tile was given.
pub fn assemble(tiles: &[(RenderParams, Vec<u8>)]) -> anyhow::Result<(Vec<u8>, (u32, u32), u64)> {
    let (first, _) = tiles.first().context("no tiles")?;
    let (w, h) = (usize::from(first.image_w), usize::from(first.image_h));
    let mut image = vec![0u8; w * h * 4];
    let mut covered = vec![false; w * h];
    for (p, pixels) in tiles {
        if (p.image_w, p.image_h, p.seed) != (first.image_w, first.image_h, first.seed) {
            bail!(
                "the jobs are not tiles of one image: {}×{} (seed {}) and {}×{} (seed {})",
                first.image_w,
                first.image_h,
                first.seed,
                p.image_w,
                p.image_h,
                p.seed
            );
        }
        let want = usize::from(p.tile_w) * usize::from(p.tile_h) * 4;
        if pixels.len() != want {
            bail!(
                "a {}×{} tile's result is {} bytes, not {want}",
                p.tile_w,
                p.tile_h,
                pixels.len()
            );
        }
        for row in 0..usize::from(p.tile_h) {
            for col in 0..usize::from(p.tile_w) {
                let at = (usize::from(p.tile_y) + row) * w + usize::from(p.tile_x) + col;
                let from = (row * usize::from(p.tile_w) + col) * 4;
                if covered[at] {
                    bail!("two jobs render pixel ({}, {})", at % w, at / w);
                }
                covered[at] = true;
                image[at * 4..at * 4 + 4].copy_from_slice(&pixels[from..from + 4]);
            }
        }
    }
    let missing = covered.iter().filter(|c| !**c).count() as u64;
    Ok((image, (w as u32, h as u32), missing))
}

fn write_model(
    dir: &Path,
    p: &TrainParams,
    bytes: &[u8],
    job: &Pubkey,
    root: &[u8; 32],
) -> anyhow::Result<()> {
    if dir.is_file() {
        bail!(
            "{} is a file; a trained model is written as a folder (w1.npy, b1.npy, w2.npy, b2.npy, model.json)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (i, h, o) = (
        usize::from(p.d_in),
        usize::from(p.hidden),
        usize::from(p.d_out),
    );
    let mut at = 0;
    for (name, shape) in [
        ("w1", vec![i, h]),
        ("b1", vec![h]),
        ("w2", vec![h, o]),
        ("b2", vec![o]),
    ] {
        let len = shape.iter().product::<usize>() * 4;
        write_npy(
            &dir.join(format!("{name}.npy")),
            "<f4",
            &shape,
            &bytes[at..at + len],
        )?;
        at += len;
    }
    let spec = serde_json::json!({
        "kernel": "train_step",
        "model": "mlp",
        "layers": [
            { "inputs": i, "outputs": h, "activation": "relu", "weights": "w1.npy", "biases": "b1.npy" },
            { "inputs": h, "outputs": o, "activation": "none", "weights": "w2.npy", "biases": "b2.npy" },
        ],
        "loss": "mse",
        "trained": { "steps": p.steps, "batch": p.batch, "learning_rate": p.lr },
        "job": job.to_string(),
        "result_root": hex(root),
    });
    let path = dir.join("model.json");
    std::fs::write(&path, serde_json::to_string_pretty(&spec)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}

pub async fn result<C: Chain>(
    chain: &C,
    jobs: &[String],
    out: &Path,
    raw: bool,
) -> anyhow::Result<()> {
    let mut fetched = Vec::new();
    for job in jobs {
        let (address, state) = job_at(chain, job).await?;
        let (bytes, url) = download(chain, &address, &state).await?;
        let root = merkle::root(&bytes);
        println!(
            "job {address}: {} bytes from {url}, root {} verified",
            bytes.len(),
            hex(&root)
        );
        let kernel = KernelJob::decode(state.kernel_id, &state.kernel_params)
            .with_context(|| format!("job {address}'s params do not decode"))?;
        fetched.push((address, kernel, bytes, root));
    }
    if raw {
        let [(_, _, bytes, _)] = fetched.as_slice() else {
            bail!("--raw writes one job's bytes; give one job");
        };
        std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
        println!("wrote {} ({} bytes)", out.display(), bytes.len());
        return Ok(());
    }
    if fetched.len() > 1 {
        let tiles = fetched
            .iter()
            .map(|(address, kernel, bytes, _)| match kernel {
                KernelJob::Render(p) => Ok((*p, bytes.clone())),
                other => bail!(
                    "job {address} is a {} job: several jobs assemble only as the tiles of a render",
                    other.kernel()
                ),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        return write_image(out, &tiles);
    }
    let (address, kernel, bytes, root) = &fetched[0];
    match kernel {
        KernelJob::Render(p) => {
            let tile = RenderParams {
                image_w: p.tile_w,
                image_h: p.tile_h,
                tile_x: 0,
                tile_y: 0,
                ..*p
            };
            write_image(out, &[(tile, bytes.clone())])
        }
        KernelJob::MatmulF32(p) | KernelJob::MatmulI8(p) => {
            let descr = if matches!(kernel, KernelJob::MatmulF32(_)) {
                "<f4"
            } else {
                "<i4"
            };
            write_array(out, descr, &[p.m as usize, p.n as usize], bytes)
        }
        KernelJob::MlpInfer(p) => {
            let outputs = usize::from(*p.widths.last().context("no layers")?);
            write_array(out, "<i4", &[p.batch as usize, outputs], bytes)
        }
        KernelJob::TrainStep(p) => {
            write_model(out, p, bytes, address, root)?;
            println!(
                "wrote the trained model to {}/ (w1.npy, b1.npy, w2.npy, b2.npy, model.json)",
                out.display()
            );
            Ok(())
        }
    }
}

fn write_array(out: &Path, descr: &str, shape: &[usize], bytes: &[u8]) -> anyhow::Result<()> {
    if !extension_is(out, "npy") {
        bail!(
            "this result is an array, written as NumPy .npy: name the file {}.npy, or pass --raw for the bytes",
            out.with_extension("").display()
        );
    }
    write_npy(out, descr, shape, bytes)?;
    println!("wrote {} ({descr} array of shape {shape:?})", out.display());
    Ok(())
}

fn write_image(out: &Path, tiles: &[(RenderParams, Vec<u8>)]) -> anyhow::Result<()> {
    if !extension_is(out, "png") {
        bail!(
            "a render is written as PNG: name the file {}.png, or pass --raw for one job's bytes",
            out.with_extension("").display()
        );
    }
    let (image, size, missing) = assemble(tiles)?;
    write_png(out, &image, size, png::ColorType::Rgba)?;
    println!(
        "wrote {} ({}×{}{})",
        out.display(),
        size.0,
        size.1,
        if missing > 0 {
            format!(", {missing} pixels no job rendered left transparent")
        } else {
            String::new()
        }
    );
    Ok(())
}
