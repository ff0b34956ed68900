//! The trace of a `render` pixel.
//!
//! A pixel is the fold of its `spp` camera samples — `sum_0 = 0`, `sum_{s+1} = sum_s +
//! radiance(sample s)` — finished by [`to_rgba`]. A sample is a ray whose states are
//! [`camera_ray`] then one [`bounce`] per depth (up to `max_depth`): each bounce intersects
//! the whole scene, and either leaves the scene (the sky's radiance, the ray is done) or
//! scatters (mirror or diffuse, drawing from the ray's own random stream). The radiance of a
//! sample is its last state's (zero if it never left the scene).
//!
//! Every operation is an f32 operation rounded on its own, in the order written here: the
//! CPU kernel calls these functions, the CUDA kernel mirrors them line by line, and the
//! referee executes one of them. The scene (the job's input) is `spheres` u32, `planes` u32,
//! then 7 camera values and 8 per object, f32 LE.

use crate::matmul::canonical;

/// A vector of three f32.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct V3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

pub fn v(x: f32, y: f32, z: f32) -> V3 {
    V3 { x, y, z }
}
pub fn add(a: V3, b: V3) -> V3 {
    v(a.x + b.x, a.y + b.y, a.z + b.z)
}
pub fn sub(a: V3, b: V3) -> V3 {
    v(a.x - b.x, a.y - b.y, a.z - b.z)
}
pub fn scale(a: V3, s: f32) -> V3 {
    v(a.x * s, a.y * s, a.z * s)
}
pub fn mul(a: V3, b: V3) -> V3 {
    v(a.x * b.x, a.y * b.y, a.z * b.z)
}
pub fn dot(a: V3, b: V3) -> f32 {
    a.x * b.x + a.y * b.y + a.z * b.z
}
pub fn cross(a: V3, b: V3) -> V3 {
    v(
        a.y * b.z - a.z * b.y,
        a.z * b.x - a.x * b.z,
        a.x * b.y - a.y * b.x,
    )
}
pub fn normalize(a: V3) -> V3 {
    let len = dot(a, a).sqrt();
    v(a.x / len, a.y / len, a.z / len)
}

/// The integer hash behind every random number.
pub fn hash(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// A sample's random stream: its state is one u32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rng(pub u32);

impl Rng {
    pub fn new(seed: u32, px: u32, py: u32, sample: u32) -> Self {
        Rng(hash(seed ^ hash(px ^ hash(py ^ hash(sample)))))
    }
    /// Uniform in [0, 1) with 24 bits.
    pub fn next_f32(&mut self) -> f32 {
        self.0 = hash(self.0.wrapping_add(0x9e37_79b9));
        (self.0 >> 8) as f32 * (1.0f32 / 16_777_216.0f32)
    }
}

/// f32 values before the objects: camera origin xyz, look-at xyz, tan of half the field of view.
pub const HEADER_F32: usize = 7;
/// f32 values per object: sphere centre xyz, radius, albedo rgb, material; or plane normal
/// xyz, offset, albedo rgb, material (0 diffuse, 1 mirror).
pub const OBJECT_F32: usize = 8;
/// Below this distance a hit is the surface the ray leaves.
pub const EPS: f32 = 1.0e-3;
/// "No hit yet".
pub const FAR: f32 = 1.0e30;

/// The camera's frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    pub origin: V3,
    pub forward: V3,
    pub right: V3,
    pub up: V3,
    pub tan_half: f32,
}

impl Camera {
    pub fn new(header: &[f32; HEADER_F32]) -> Self {
        let origin = v(header[0], header[1], header[2]);
        let look = v(header[3], header[4], header[5]);
        let forward = normalize(sub(look, origin));
        let right = normalize(cross(forward, v(0.0, 1.0, 0.0)));
        let up = cross(right, forward);
        Camera {
            origin,
            forward,
            right,
            up,
            tan_half: header[6],
        }
    }
}

/// The objects of a scene: `OBJECT_F32` values each, spheres first.
#[derive(Clone, Copy, Debug)]
pub struct Objects<'a> {
    pub values: &'a [f32],
    pub spheres: usize,
    pub planes: usize,
}

impl Objects<'_> {
    fn object(&self, i: usize) -> &[f32] {
        &self.values[OBJECT_F32 * i..OBJECT_F32 * (i + 1)]
    }
}

/// What a view needs of the render's params.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    pub image_w: u16,
    pub image_h: u16,
    pub seed: u32,
}

/// A ray between bounces: one state of a sample's trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ray {
    pub origin: V3,
    pub dir: V3,
    pub through: V3,
    pub rng: Rng,
    /// Set once the ray has left the scene; `radiance` is then its sample's.
    pub done: bool,
    pub radiance: V3,
}

/// Bytes of an encoded [`Ray`].
pub const RAY_BYTES: usize = 4 * 12 + 4 + 1;

impl Ray {
    /// The state's canonical bytes (f32 bits LE, any NaN as `0x7fc00000`; what a bisection
    /// hashes).
    pub fn encode(&self) -> [u8; RAY_BYTES] {
        let mut out = [0u8; RAY_BYTES];
        let values = [self.origin, self.dir, self.through, self.radiance];
        for (i, value) in values.iter().enumerate() {
            out[12 * i..12 * i + 12].copy_from_slice(&encode_v3(*value));
        }
        out[48..52].copy_from_slice(&self.rng.0.to_le_bytes());
        out[52] = u8::from(self.done);
        out
    }

    pub fn decode(bytes: &[u8; RAY_BYTES]) -> Option<Self> {
        let f = |at: usize| f32_at(bytes, at);
        let v3 = |at: usize| v(f(at), f(at + 4), f(at + 8));
        let done = match bytes[52] {
            0 => false,
            1 => true,
            _ => return None,
        };
        Some(Ray {
            origin: v3(0),
            dir: v3(12),
            through: v3(24),
            radiance: v3(36),
            rng: Rng(u32::from_le_bytes([
                bytes[48], bytes[49], bytes[50], bytes[51],
            ])),
            done,
        })
    }

    /// The radiance this ray's sample contributes: its own if it left the scene, else zero.
    pub fn contribution(&self) -> V3 {
        if self.done {
            self.radiance
        } else {
            v(0.0, 0.0, 0.0)
        }
    }
}

/// State 0 of sample `sample` of pixel (`px`, `py`): the jittered camera ray.
pub fn camera_ray(camera: &Camera, view: &View, px: u32, py: u32, sample: u32) -> Ray {
    let mut rng = Rng::new(view.seed, px, py, sample);
    let aspect = f32::from(view.image_w) / f32::from(view.image_h);
    let jx = rng.next_f32();
    let jy = rng.next_f32();
    let u = ((px as f32 + jx) / f32::from(view.image_w) * 2.0 - 1.0) * camera.tan_half * aspect;
    let w = (1.0 - (py as f32 + jy) / f32::from(view.image_h) * 2.0) * camera.tan_half;
    let dir = normalize(add(
        add(camera.forward, scale(camera.right, u)),
        scale(camera.up, w),
    ));
    Ray {
        origin: camera.origin,
        dir,
        through: v(1.0, 1.0, 1.0),
        rng,
        done: false,
        radiance: v(0.0, 0.0, 0.0),
    }
}

/// One bounce: the step of a sample's trace. A done ray stays as it is.
pub fn bounce(objects: &Objects, ray: &Ray) -> Ray {
    if ray.done {
        return *ray;
    }
    let (origin, dir) = (ray.origin, ray.dir);
    let mut rng = ray.rng;
    let mut best = FAR;
    let mut normal = v(0.0, 0.0, 0.0);
    let mut hit_object: Option<usize> = None;
    for i in 0..objects.spheres {
        let s = objects.object(i);
        let center = v(s[0], s[1], s[2]);
        let oc = sub(origin, center);
        let b = dot(oc, dir);
        let c = dot(oc, oc) - s[3] * s[3];
        let disc = b * b - c;
        if disc > 0.0 {
            let root = disc.sqrt();
            let mut t = -b - root;
            if t <= EPS {
                t = -b + root;
            }
            if t > EPS && t < best {
                best = t;
                let hit = add(origin, scale(dir, t));
                let n = sub(hit, center);
                normal = v(n.x / s[3], n.y / s[3], n.z / s[3]);
                hit_object = Some(i);
            }
        }
    }
    for i in objects.spheres..objects.spheres + objects.planes {
        let pl = objects.object(i);
        let n = v(pl[0], pl[1], pl[2]);
        let denom = dot(n, dir);
        if denom != 0.0 {
            let t = (pl[3] - dot(n, origin)) / denom;
            if t > EPS && t < best {
                best = t;
                normal = if denom > 0.0 { scale(n, -1.0) } else { n };
                hit_object = Some(i);
            }
        }
    }
    let Some(index) = hit_object else {
        let t = 0.5 * (dir.y + 1.0);
        let sky = v(1.0 - t + t * 0.5, 1.0 - t + t * 0.7, 1.0 - t + t * 1.0);
        return Ray {
            done: true,
            radiance: mul(ray.through, sky),
            ..*ray
        };
    };
    let obj = objects.object(index);
    let through = mul(ray.through, v(obj[4], obj[5], obj[6]));
    let origin = add(origin, scale(dir, best));
    let dir = if obj[7] >= 0.5 {
        let k = 2.0 * dot(dir, normal);
        normalize(sub(dir, scale(normal, k)))
    } else {
        let mut offset = v(0.0, 0.0, 0.0);
        for _ in 0..8 {
            let c = v(
                rng.next_f32() * 2.0 - 1.0,
                rng.next_f32() * 2.0 - 1.0,
                rng.next_f32() * 2.0 - 1.0,
            );
            if dot(c, c) < 1.0 {
                offset = c;
                break;
            }
        }
        let d = add(normal, offset);
        if dot(d, d) > 1.0e-8 {
            normalize(d)
        } else {
            normal
        }
    };
    Ray {
        origin,
        dir,
        through,
        rng,
        done: false,
        radiance: v(0.0, 0.0, 0.0),
    }
}

/// The radiance of sample `sample`: its camera ray bounced up to `max_depth` times.
pub fn sample(
    camera: &Camera,
    objects: &Objects,
    view: &View,
    max_depth: u8,
    px: u32,
    py: u32,
    sample: u32,
) -> V3 {
    let mut ray = camera_ray(camera, view, px, py, sample);
    for _ in 0..max_depth {
        ray = bounce(objects, &ray);
        if ray.done {
            break;
        }
    }
    ray.contribution()
}

/// The f32 whose LE bits are at `bytes[at..at + 4]` (callers pass fixed-size states).
fn f32_at(bytes: &[u8], at: usize) -> f32 {
    f32::from_bits(u32::from_le_bytes([
        bytes[at],
        bytes[at + 1],
        bytes[at + 2],
        bytes[at + 3],
    ]))
}

/// A vector's canonical bytes: f32 bits LE, any NaN as `0x7fc00000` (hardware NaN payloads
/// differ; a state must not).
pub fn encode_v3(value: V3) -> [u8; 12] {
    let mut out = [0u8; 12];
    for (j, f) in [value.x, value.y, value.z].iter().enumerate() {
        out[4 * j..4 * j + 4].copy_from_slice(&canonical(*f).to_le_bytes());
    }
    out
}

/// One step of a pixel's fold over its samples (its state is [`encode_v3`] of the sum).
pub fn accumulate(sum: V3, radiance: V3) -> V3 {
    add(sum, radiance)
}

fn to_byte(c: f32) -> u8 {
    let g = c.sqrt();
    let g = if g > 0.999 {
        0.999
    } else if g > 0.0 {
        g
    } else {
        0.0
    };
    (256.0 * g) as u8
}

/// The pixel from its samples' sum: mean, gamma 2, RGBA8.
pub fn to_rgba(sum: V3, spp: u16) -> [u8; 4] {
    let spp = f32::from(spp);
    [
        to_byte(sum.x / spp),
        to_byte(sum.y / spp),
        to_byte(sum.z / spp),
        255,
    ]
}

/// A ray that is not tracing: the state between two samples (all zeros, not done).
pub fn idle_ray() -> Ray {
    Ray {
        origin: v(0.0, 0.0, 0.0),
        dir: v(0.0, 0.0, 0.0),
        through: v(0.0, 0.0, 0.0),
        rng: Rng(0),
        done: false,
        radiance: v(0.0, 0.0, 0.0),
    }
}

/// A state of a pixel's trace: the sum of its finished samples and the current sample's ray.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PixelState {
    pub sum: V3,
    pub ray: Ray,
}

/// Bytes of an encoded [`PixelState`].
pub const PIXEL_STATE_BYTES: usize = 12 + RAY_BYTES;

impl PixelState {
    /// State 0: nothing summed, no ray.
    pub fn start() -> Self {
        PixelState {
            sum: v(0.0, 0.0, 0.0),
            ray: idle_ray(),
        }
    }

    pub fn encode(&self) -> [u8; PIXEL_STATE_BYTES] {
        let mut out = [0u8; PIXEL_STATE_BYTES];
        out[..12].copy_from_slice(&encode_v3(self.sum));
        out[12..].copy_from_slice(&self.ray.encode());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; PIXEL_STATE_BYTES] = bytes.try_into().ok()?;
        let f = |at: usize| f32_at(bytes, at);
        let ray: &[u8; RAY_BYTES] = bytes[12..].try_into().ok()?;
        Some(PixelState {
            sum: v(f(0), f(4), f(8)),
            ray: Ray::decode(ray)?,
        })
    }
}

/// One pixel of a render job, as its trace needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pixel {
    pub view: View,
    pub px: u32,
    pub py: u32,
    pub spp: u16,
    pub max_depth: u8,
}

/// What the step from a position of a pixel's trace does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelStep {
    /// Starts sample `s`: the ray becomes its camera ray.
    Camera(u32),
    /// One bounce of the current ray.
    Bounce,
    /// Adds the finished sample's contribution to the sum; the ray becomes idle.
    Accumulate,
    /// The pixel's RGBA bytes from the sum: the trace's last step.
    Finish,
}

/// The state after a step: another [`PixelState`], or after [`PixelStep::Finish`] the pixel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PixelNext {
    State(PixelState),
    Rgba([u8; 4]),
}

impl PixelNext {
    /// The canonical bytes a bisection hashes.
    pub fn encode(&self) -> ([u8; PIXEL_STATE_BYTES], usize) {
        let mut out = [0u8; PIXEL_STATE_BYTES];
        match self {
            PixelNext::State(s) => (s.encode(), PIXEL_STATE_BYTES),
            PixelNext::Rgba(rgba) => {
                out[..4].copy_from_slice(rgba);
                (out, 4)
            }
        }
    }
}

impl Pixel {
    fn block(&self) -> u64 {
        u64::from(self.max_depth) + 2
    }

    /// Steps in the pixel's trace: per sample a camera ray, `max_depth` bounces and an
    /// accumulation; then the finish. State `trace_len()` is the output pixel.
    pub fn trace_len(&self) -> u64 {
        u64::from(self.spp) * self.block() + 1
    }

    /// The step from position `position`.
    pub fn step_at(&self, position: u64) -> Option<PixelStep> {
        let samples_end = u64::from(self.spp) * self.block();
        if position == samples_end {
            return Some(PixelStep::Finish);
        }
        if position > samples_end {
            return None;
        }
        let (sample, within) = (position / self.block(), position % self.block());
        Some(if within == 0 {
            PixelStep::Camera(sample as u32)
        } else if within <= u64::from(self.max_depth) {
            PixelStep::Bounce
        } else {
            PixelStep::Accumulate
        })
    }

    /// The step from `position` of the trace, from `state`, in the scene (`camera`,
    /// `objects`): the kernel's arithmetic, one step of it.
    pub fn step(
        &self,
        camera: &Camera,
        objects: &Objects,
        position: u64,
        state: &PixelState,
    ) -> Option<PixelNext> {
        Some(match self.step_at(position)? {
            PixelStep::Camera(sample) => PixelNext::State(PixelState {
                sum: state.sum,
                ray: camera_ray(camera, &self.view, self.px, self.py, sample),
            }),
            PixelStep::Bounce => PixelNext::State(PixelState {
                sum: state.sum,
                ray: bounce(objects, &state.ray),
            }),
            PixelStep::Accumulate => PixelNext::State(PixelState {
                sum: accumulate(state.sum, state.ray.contribution()),
                ray: idle_ray(),
            }),
            PixelStep::Finish => PixelNext::Rgba(to_rgba(state.sum, self.spp)),
        })
    }
}

/// Most objects a scene may hold (the kernel's limit).
pub const MAX_OBJECTS: usize = 64;

/// Bytes of the largest scene: the two counts, the camera and [`MAX_OBJECTS`] objects.
pub const MAX_SCENE_BYTES: usize = 8 + 4 * (HEADER_F32 + OBJECT_F32 * MAX_OBJECTS);

/// Bytes of a render job's params: seven u16 (image w, h; tile x, y, w, h; spp), `max_depth`
/// u8, a zero byte, the seed u32, all LE.
pub const PARAMS_BYTES: usize = 20;

/// The tile a render job computes, as its params encode it: the layout, and what makes every
/// pixel's trace well defined (a non-empty tile inside the image, at least one sample and one
/// bounce). The kernels' decoder adds its resource limits on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    pub view: View,
    pub tile_x: u16,
    pub tile_y: u16,
    pub tile_w: u16,
    pub tile_h: u16,
    pub spp: u16,
    pub max_depth: u8,
}

impl Tile {
    pub fn decode(params: &[u8]) -> Option<Self> {
        if params.len() != PARAMS_BYTES || params[15] != 0 {
            return None;
        }
        let u16_at = |i: usize| u16::from_le_bytes([params[2 * i], params[2 * i + 1]]);
        let tile = Tile {
            view: View {
                image_w: u16_at(0),
                image_h: u16_at(1),
                seed: crate::u32_at(params, 16)?,
            },
            tile_x: u16_at(2),
            tile_y: u16_at(3),
            tile_w: u16_at(4),
            tile_h: u16_at(5),
            spp: u16_at(6),
            max_depth: params[14],
        };
        let inside = u32::from(tile.tile_x) + u32::from(tile.tile_w)
            <= u32::from(tile.view.image_w)
            && u32::from(tile.tile_y) + u32::from(tile.tile_h) <= u32::from(tile.view.image_h);
        (tile.tile_w > 0 && tile.tile_h > 0 && inside && tile.spp > 0 && tile.max_depth > 0)
            .then_some(tile)
    }

    /// Pixels of the tile: its output elements (RGBA, 4 bytes each), row by row.
    pub fn outputs(&self) -> u64 {
        u64::from(self.tile_w) * u64::from(self.tile_h)
    }

    /// The pixel of output element `element`.
    pub fn pixel(&self, element: u64) -> Option<Pixel> {
        if element >= self.outputs() {
            return None;
        }
        let w = u64::from(self.tile_w);
        Some(Pixel {
            view: self.view,
            px: u32::from(self.tile_x) + (element % w) as u32,
            py: u32::from(self.tile_y) + (element / w) as u32,
            spp: self.spp,
            max_depth: self.max_depth,
        })
    }

    /// Steps in every pixel's trace.
    pub fn trace_len(&self) -> u64 {
        Pixel {
            view: self.view,
            px: 0,
            py: 0,
            spp: self.spp,
            max_depth: self.max_depth,
        }
        .trace_len()
    }
}

/// The object counts of a scene's bytes (`spheres`, `planes`), if the bytes hold exactly the
/// camera and that many objects, and at most [`MAX_OBJECTS`] and at least one.
pub fn scene_counts(scene: &[u8]) -> Option<(usize, usize)> {
    let spheres = crate::u32_at(scene, 0)? as usize;
    let planes = crate::u32_at(scene, 4)? as usize;
    let objects = spheres.checked_add(planes)?;
    ((1..=MAX_OBJECTS).contains(&objects)
        && scene.len() == 8 + 4 * (HEADER_F32 + OBJECT_F32 * objects))
        .then_some((spheres, planes))
}
