//! `render`: one tile of a small path-traced scene (spheres and planes, diffuse and mirror
//! materials), RGBA8.
//!
//! Params (20 bytes, LE): `image_w`, `image_h`, `tile_x`, `tile_y`, `tile_w`, `tile_h`, `spp`
//! as u16, `max_depth` u8 (1..=16), a zero byte, `seed` u32. The image is at most 8192², a
//! tile at most 512² and inside the image, `spp` 1..=4096, and a tile at most 2^26 samples.
//! Input, the scene (LE): `spheres` u32, `planes` u32 (together 1..=64), the camera (origin
//! xyz, look-at xyz, tan of half the vertical field of view: 7 f32), then 8 f32 per sphere
//! (centre xyz, radius > 0, albedo rgb, material: 0 diffuse, 1 mirror) and per plane (normal
//! xyz, offset d with n·p = d, albedo rgb, material). All finite.
//! Output: tile_w × tile_h pixels, row-major, RGBA8 (alpha 255).
//!
//! Determinism: f32 only, operations in the same order on both sides, each rounded on its own
//! (IEEE `sqrt` and division, no FMA); random numbers from an integer hash of (seed, pixel,
//! sample, draw); diffuse bounces sample the unit ball by rejection, so no transcendental
//! function is evaluated at all.
use rayon::prelude::*;
use tessera_step::render as step;

use crate::backend::{Cpu, Gpu};
use crate::codec::{first_non_finite, Reader};
use crate::random::SplitMix64;
use crate::{Kernel, KernelError, KernelId};

pub const MAX_IMAGE: u16 = 8192;
pub const MAX_TILE: u16 = 512;
pub const MAX_SPP: u16 = 4096;
pub const MAX_DEPTH: u8 = 16;
pub const MAX_OBJECTS: u32 = 64;
pub const MAX_TILE_SAMPLES: u64 = 1 << 26;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderParams {
    pub image_w: u16,
    pub image_h: u16,
    pub tile_x: u16,
    pub tile_y: u16,
    pub tile_w: u16,
    pub tile_h: u16,
    pub spp: u16,
    pub max_depth: u8,
    pub seed: u32,
}

const ID: KernelId = KernelId::Render;
use step::{HEADER_F32, OBJECT_F32};

/// The scene, parsed once per job: the camera frame and the objects.
struct Scene {
    camera: step::Camera,
    values: Vec<f32>,
    spheres: usize,
    planes: usize,
}

fn parse_scene(values: &[f32], spheres: usize, planes: usize) -> Scene {
    let header: &[f32; HEADER_F32] = values[..HEADER_F32].try_into().expect("7 values");
    Scene {
        camera: step::Camera::new(header),
        values: values[HEADER_F32..].to_vec(),
        spheres,
        planes,
    }
}

/// A pixel: the fold of its samples (each a camera ray bounced by `tessera_step::render`'s
/// step), then its RGBA bytes. The CUDA source below mirrors these functions line by line.
fn pixel(scene: &Scene, p: &RenderParams, px: u32, py: u32) -> [u8; 4] {
    let objects = step::Objects {
        values: &scene.values,
        spheres: scene.spheres,
        planes: scene.planes,
    };
    let view = step::View {
        image_w: p.image_w,
        image_h: p.image_h,
        seed: p.seed,
    };
    let mut sum = step::v(0.0, 0.0, 0.0);
    for s in 0..u32::from(p.spp) {
        let radiance = step::sample(&scene.camera, &objects, &view, p.max_depth, px, py, s);
        sum = step::accumulate(sum, radiance);
    }
    step::to_rgba(sum, p.spp)
}

const CUDA: &str = r#"
struct V3 { float x, y, z; };
__device__ V3 v3(float x, float y, float z) { V3 r; r.x = x; r.y = y; r.z = z; return r; }
__device__ V3 add(V3 a, V3 b) { return v3(__fadd_rn(a.x, b.x), __fadd_rn(a.y, b.y), __fadd_rn(a.z, b.z)); }
__device__ V3 sub(V3 a, V3 b) { return v3(__fsub_rn(a.x, b.x), __fsub_rn(a.y, b.y), __fsub_rn(a.z, b.z)); }
__device__ V3 scale(V3 a, float s) { return v3(__fmul_rn(a.x, s), __fmul_rn(a.y, s), __fmul_rn(a.z, s)); }
__device__ V3 mul(V3 a, V3 b) { return v3(__fmul_rn(a.x, b.x), __fmul_rn(a.y, b.y), __fmul_rn(a.z, b.z)); }
__device__ float dot(V3 a, V3 b) {
    return __fadd_rn(__fadd_rn(__fmul_rn(a.x, b.x), __fmul_rn(a.y, b.y)), __fmul_rn(a.z, b.z));
}
__device__ V3 normalize(V3 a) {
    float len = __fsqrt_rn(dot(a, a));
    return v3(__fdiv_rn(a.x, len), __fdiv_rn(a.y, len), __fdiv_rn(a.z, len));
}
__device__ V3 cross(V3 a, V3 b) {
    return v3(__fsub_rn(__fmul_rn(a.y, b.z), __fmul_rn(a.z, b.y)),
              __fsub_rn(__fmul_rn(a.z, b.x), __fmul_rn(a.x, b.z)),
              __fsub_rn(__fmul_rn(a.x, b.y), __fmul_rn(a.y, b.x)));
}
__device__ unsigned hash(unsigned x) {
    x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16; return x;
}
__device__ float next(unsigned* state) {
    *state = hash(*state + 0x9e3779b9u);
    return __fmul_rn((float)(*state >> 8), 1.0f / 16777216.0f);
}
#define EPS 1.0e-3f
#define FAR 1.0e30f

extern "C" __global__ void render(const float* scene, unsigned spheres, unsigned planes,
                                  unsigned char* out, unsigned image_w, unsigned image_h,
                                  unsigned tile_x, unsigned tile_y, unsigned tile_w,
                                  unsigned tile_h, unsigned spp, unsigned max_depth,
                                  unsigned seed) {
    unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= tile_w * tile_h) return;
    unsigned px = tile_x + idx % tile_w, py = tile_y + idx / tile_w;
    V3 origin0 = v3(scene[0], scene[1], scene[2]);
    V3 look = v3(scene[3], scene[4], scene[5]);
    V3 forward = normalize(sub(look, origin0));
    V3 right = normalize(cross(forward, v3(0.0f, 1.0f, 0.0f)));
    V3 up = cross(right, forward);
    float tan_half = scene[6];
    const float* objects = scene + 7;
    float aspect = __fdiv_rn((float)image_w, (float)image_h);
    V3 sum = v3(0.0f, 0.0f, 0.0f);
    for (unsigned s = 0; s < spp; ++s) {
        unsigned state = hash(seed ^ hash(px ^ hash(py ^ hash(s))));
        float jx = next(&state);
        float jy = next(&state);
        float u = __fmul_rn(__fmul_rn(__fsub_rn(__fmul_rn(__fdiv_rn(__fadd_rn((float)px, jx), (float)image_w), 2.0f), 1.0f), tan_half), aspect);
        float w = __fmul_rn(__fsub_rn(1.0f, __fmul_rn(__fdiv_rn(__fadd_rn((float)py, jy), (float)image_h), 2.0f)), tan_half);
        V3 dir = normalize(add(add(forward, scale(right, u)), scale(up, w)));
        V3 origin = origin0;
        V3 through = v3(1.0f, 1.0f, 1.0f);
        V3 radiance = v3(0.0f, 0.0f, 0.0f);
        for (unsigned depth = 0; depth < max_depth; ++depth) {
            float best = FAR;
            V3 normal = v3(0.0f, 0.0f, 0.0f);
            const float* object = 0;
            for (unsigned i = 0; i < spheres; ++i) {
                const float* sp = objects + 8 * i;
                V3 center = v3(sp[0], sp[1], sp[2]);
                V3 oc = sub(origin, center);
                float b = dot(oc, dir);
                float c = __fsub_rn(dot(oc, oc), __fmul_rn(sp[3], sp[3]));
                float disc = __fsub_rn(__fmul_rn(b, b), c);
                if (disc > 0.0f) {
                    float root = __fsqrt_rn(disc);
                    float t = __fsub_rn(-b, root);
                    if (t <= EPS) t = __fadd_rn(-b, root);
                    if (t > EPS && t < best) {
                        best = t;
                        V3 hit = add(origin, scale(dir, t));
                        V3 n = sub(hit, center);
                        normal = v3(__fdiv_rn(n.x, sp[3]), __fdiv_rn(n.y, sp[3]), __fdiv_rn(n.z, sp[3]));
                        object = sp;
                    }
                }
            }
            for (unsigned i = 0; i < planes; ++i) {
                const float* pl = objects + 8 * (spheres + i);
                V3 n = v3(pl[0], pl[1], pl[2]);
                float denom = dot(n, dir);
                if (denom != 0.0f) {
                    float t = __fdiv_rn(__fsub_rn(pl[3], dot(n, origin)), denom);
                    if (t > EPS && t < best) {
                        best = t;
                        normal = denom > 0.0f ? scale(n, -1.0f) : n;
                        object = pl;
                    }
                }
            }
            if (!object) {
                float t = __fmul_rn(0.5f, __fadd_rn(dir.y, 1.0f));
                float one_t = __fsub_rn(1.0f, t);
                V3 sky = v3(__fadd_rn(one_t, __fmul_rn(t, 0.5f)),
                            __fadd_rn(one_t, __fmul_rn(t, 0.7f)),
                            __fadd_rn(one_t, __fmul_rn(t, 1.0f)));
                radiance = mul(through, sky);
                break;
            }
            through = mul(through, v3(object[4], object[5], object[6]));
            origin = add(origin, scale(dir, best));
            if (object[7] >= 0.5f) {
                float k = __fmul_rn(2.0f, dot(dir, normal));
                dir = normalize(sub(dir, scale(normal, k)));
            } else {
                V3 offset = v3(0.0f, 0.0f, 0.0f);
                for (int tries = 0; tries < 8; ++tries) {
                    float cx = __fsub_rn(__fmul_rn(next(&state), 2.0f), 1.0f);
                    float cy = __fsub_rn(__fmul_rn(next(&state), 2.0f), 1.0f);
                    float cz = __fsub_rn(__fmul_rn(next(&state), 2.0f), 1.0f);
                    V3 c = v3(cx, cy, cz);
                    if (dot(c, c) < 1.0f) { offset = c; break; }
                }
                V3 d = add(normal, offset);
                dir = dot(d, d) > 1.0e-8f ? normalize(d) : normal;
            }
        }
        sum = add(sum, radiance);
    }
    float fspp = (float)spp;
    float c[3] = { __fdiv_rn(sum.x, fspp), __fdiv_rn(sum.y, fspp), __fdiv_rn(sum.z, fspp) };
    for (int ch = 0; ch < 3; ++ch) {
        float g = __fsqrt_rn(c[ch]);
        g = g > 0.999f ? 0.999f : (g > 0.0f ? g : 0.0f);
        out[4 * idx + ch] = (unsigned char)(unsigned)__fmul_rn(256.0f, g);
    }
    out[4 * idx + 3] = 255;
}
"#;

/// `render`.
pub struct Render;

impl Kernel for Render {
    const ID: KernelId = ID;
    type Params = RenderParams;

    fn decode_params(bytes: &[u8]) -> Result<RenderParams, KernelError> {
        let mut r = Reader::new(bytes);
        let short =
            || KernelError::params(ID, "need 20 bytes: 7 × u16, max_depth u8, 0u8, seed u32");
        let mut next = || r.u16().ok_or_else(short);
        let (image_w, image_h, tile_x, tile_y, tile_w, tile_h, spp) = (
            next()?,
            next()?,
            next()?,
            next()?,
            next()?,
            next()?,
            next()?,
        );
        let max_depth = r.u8().ok_or_else(short)?;
        let zero = r.u8().ok_or_else(short)?;
        let seed = r.u32().ok_or_else(short)?;
        if r.remaining() != 0 || zero != 0 {
            return Err(KernelError::params(
                ID,
                "byte 15 must be 0 and nothing may follow the seed",
            ));
        }
        let bad = |why: String| Err(KernelError::params(ID, why));
        if image_w == 0 || image_h == 0 || image_w > MAX_IMAGE || image_h > MAX_IMAGE {
            return bad(format!(
                "image {image_w}×{image_h}; each side must be 1..={MAX_IMAGE}"
            ));
        }
        if tile_w == 0 || tile_h == 0 || tile_w > MAX_TILE || tile_h > MAX_TILE {
            return bad(format!(
                "tile {tile_w}×{tile_h}; each side must be 1..={MAX_TILE}"
            ));
        }
        if u32::from(tile_x) + u32::from(tile_w) > u32::from(image_w)
            || u32::from(tile_y) + u32::from(tile_h) > u32::from(image_h)
        {
            return bad("the tile does not lie inside the image".into());
        }
        if spp == 0 || spp > MAX_SPP {
            return bad(format!("spp = {spp}; must be 1..={MAX_SPP}"));
        }
        if max_depth == 0 || max_depth > MAX_DEPTH {
            return bad(format!("max_depth = {max_depth}; must be 1..={MAX_DEPTH}"));
        }
        let samples = u64::from(tile_w) * u64::from(tile_h) * u64::from(spp);
        if samples > MAX_TILE_SAMPLES {
            return bad(format!(
                "{samples} samples; a tile may take at most {MAX_TILE_SAMPLES}"
            ));
        }
        Ok(RenderParams {
            image_w,
            image_h,
            tile_x,
            tile_y,
            tile_w,
            tile_h,
            spp,
            max_depth,
            seed,
        })
    }
    fn encode_params(p: &RenderParams) -> Vec<u8> {
        let mut out = Vec::with_capacity(20);
        for v in [
            p.image_w, p.image_h, p.tile_x, p.tile_y, p.tile_w, p.tile_h, p.spp,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&[p.max_depth, 0]);
        out.extend_from_slice(&p.seed.to_le_bytes());
        out
    }
    /// The scene's size is in the input itself; this is the smallest scene (one object).
    fn input_len(_: &RenderParams) -> usize {
        8 + 4 * (HEADER_F32 + OBJECT_F32)
    }
    fn output_len(p: &RenderParams) -> usize {
        usize::from(p.tile_w) * usize::from(p.tile_h) * 4
    }
    fn work_units(p: &RenderParams) -> u64 {
        // One unit per 2^16 camera samples, each of up to max_depth bounces.
        (u64::from(p.tile_w) * u64::from(p.tile_h) * u64::from(p.spp) * u64::from(p.max_depth))
            .div_ceil(1 << 16)
    }
    fn check_input(_: &RenderParams, input: &[u8]) -> Result<(), KernelError> {
        let mut r = Reader::new(input);
        let (Some(spheres), Some(planes)) = (r.u32(), r.u32()) else {
            return Err(KernelError::input(ID, "truncated scene header"));
        };
        let objects = u64::from(spheres) + u64::from(planes);
        if objects == 0 || objects > u64::from(MAX_OBJECTS) {
            return Err(KernelError::input(
                ID,
                format!("{objects} objects; a scene has 1..={MAX_OBJECTS}"),
            ));
        }
        let want = 8 + 4 * (HEADER_F32 + OBJECT_F32 * objects as usize);
        if input.len() != want {
            return Err(KernelError::input(
                ID,
                format!(
                    "{} bytes; {spheres} spheres and {planes} planes need {want}",
                    input.len()
                ),
            ));
        }
        if let Some(i) = first_non_finite(&input[8..]) {
            return Err(KernelError::input(
                ID,
                format!("scene value {i} is NaN or infinite"),
            ));
        }
        let values = crate::codec::f32s(&input[8..]);
        for s in 0..spheres as usize {
            let radius = values[HEADER_F32 + OBJECT_F32 * s + 3];
            if radius <= 0.0 {
                return Err(KernelError::input(
                    ID,
                    format!("sphere {s} has radius {radius}"),
                ));
            }
        }
        Ok(())
    }
    fn run_cpu(p: &RenderParams, input: &[u8], cpu: &Cpu) -> Vec<u8> {
        let spheres = u32::from_le_bytes(input[0..4].try_into().expect("4")) as usize;
        let planes = u32::from_le_bytes(input[4..8].try_into().expect("4")) as usize;
        let scene = parse_scene(&crate::codec::f32s(&input[8..]), spheres, planes);
        let mut out = vec![0u8; Self::output_len(p)];
        let tile_w = usize::from(p.tile_w);
        cpu.install(|| {
            out.par_chunks_mut(4).enumerate().for_each(|(i, px)| {
                let x = u32::from(p.tile_x) + (i % tile_w) as u32;
                let y = u32::from(p.tile_y) + (i / tile_w) as u32;
                px.copy_from_slice(&pixel(&scene, p, x, y));
            });
        });
        out
    }
    const CUDA_SOURCE: &'static str = CUDA;
    fn run_cuda(p: &RenderParams, input: &[u8], gpu: &Gpu) -> Result<Vec<u8>, KernelError> {
        use cudarc::driver::PushKernelArg;
        let spheres = u32::from_le_bytes(input[0..4].try_into().expect("4"));
        let planes = u32::from_le_bytes(input[4..8].try_into().expect("4"));
        let stream = gpu.stream();
        let scene = stream.clone_htod(&crate::codec::f32s(&input[8..]))?;
        let mut out = stream.alloc_zeros::<u8>(Self::output_len(p))?;
        let f = gpu.function(ID, CUDA, "render")?;
        let args: [u32; 9] = [
            p.image_w.into(),
            p.image_h.into(),
            p.tile_x.into(),
            p.tile_y.into(),
            p.tile_w.into(),
            p.tile_h.into(),
            p.spp.into(),
            p.max_depth.into(),
            p.seed,
        ];
        let mut launch = stream.launch_builder(&f);
        launch.arg(&scene).arg(&spheres).arg(&planes).arg(&mut out);
        for a in &args {
            launch.arg(a);
        }
        // SAFETY: the arguments match the kernel's signature and the buffers' sizes.
        unsafe {
            launch.launch(super::launch_1d(
                usize::from(p.tile_w) * usize::from(p.tile_h),
            ))
        }?;
        Ok(stream.clone_dtoh(&out)?)
    }
    fn random_input(_: &RenderParams, rng: &mut SplitMix64) -> Vec<u8> {
        // A ground plane and a few random spheres in front of the camera.
        let spheres = 2 + rng.below(5) as u32;
        let mut input = spheres.to_le_bytes().to_vec();
        input.extend_from_slice(&1u32.to_le_bytes());
        let mut push = |x: f32| input.extend_from_slice(&x.to_le_bytes());
        for x in [0.0, 1.0, 3.0, 0.0, 0.5, -1.0, 0.6] {
            push(x);
        }
        for _ in 0..spheres {
            let mut f = || rng.signed_unit();
            let (cx, cy, cz) = (f() * 2.0, f() * 0.5 + 0.5, f() * 1.5 - 1.5);
            let radius = 0.3 + (f() + 1.0) * 0.25;
            let albedo = [(f() + 1.0) * 0.45, (f() + 1.0) * 0.45, (f() + 1.0) * 0.45];
            let material = if f() > 0.3 { 1.0 } else { 0.0 };
            for x in [
                cx, cy, cz, radius, albedo[0], albedo[1], albedo[2], material,
            ] {
                push(x);
            }
        }
        for x in [0.0, 1.0, 0.0, -0.5, 0.8, 0.8, 0.8, 0.0] {
            push(x);
        }
        input
    }
}
