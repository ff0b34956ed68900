//! A render job's scene, by name: the camera and the objects, encoded as the `render` kernel's
//! input (`workers/kernels/src/kernels/render.rs`: `spheres` u32, `planes` u32, the camera's
//! 7 f32, then 8 f32 per sphere and per plane) and decoded back.
use serde::{Deserialize, Serialize};

use super::FieldError;
use tessera_kernels::kernels::render::MAX_OBJECTS;

/// The camera: where it stands, what it looks at, its vertical field of view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSpec {
    pub origin: [f32; 3],
    pub look_at: [f32; 3],
    /// Vertical field of view in degrees (0 < fov < 180).
    pub fov_deg: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Material {
    Diffuse,
    Mirror,
}

impl Material {
    fn code(self) -> f32 {
        match self {
            Material::Diffuse => 0.0,
            Material::Mirror => 1.0,
        }
    }
    fn from_code(code: f32) -> Self {
        // The kernel treats any value other than 1 as diffuse.
        if code == 1.0 {
            Material::Mirror
        } else {
            Material::Diffuse
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SphereSpec {
    pub center: [f32; 3],
    pub radius: f32,
    /// Reflectance per channel, 0..=1.
    pub albedo: [f32; 3],
    pub material: Material,
}

/// A plane `normal · p = offset`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaneSpec {
    pub normal: [f32; 3],
    pub offset: f32,
    pub albedo: [f32; 3],
    pub material: Material,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneSpec {
    pub camera: CameraSpec,
    #[serde(default, rename = "sphere", skip_serializing_if = "Vec::is_empty")]
    pub spheres: Vec<SphereSpec>,
    #[serde(default, rename = "plane", skip_serializing_if = "Vec::is_empty")]
    pub planes: Vec<PlaneSpec>,
}

fn finite(field: &str, values: &[f32]) -> Result<(), FieldError> {
    match values.iter().find(|v| !v.is_finite()) {
        Some(v) => Err(FieldError::new(
            field,
            format!("{v} is not a finite number"),
        )),
        None => Ok(()),
    }
}

fn albedo(field: &str, a: &[f32; 3]) -> Result<(), FieldError> {
    finite(field, a)?;
    if a.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(FieldError::new(
            field,
            format!("{a:?}: each channel must be within 0..=1"),
        ));
    }
    Ok(())
}

impl SceneSpec {
    /// The kernel's input bytes, after checking every value names what it must be.
    pub fn encode(&self, at: &str) -> Result<Vec<u8>, FieldError> {
        let objects = self.spheres.len() + self.planes.len();
        if objects == 0 || objects > MAX_OBJECTS as usize {
            return Err(FieldError::new(
                &format!("{at}.sphere/plane"),
                format!("{objects} objects; a scene has 1..={MAX_OBJECTS}"),
            ));
        }
        let c = &self.camera;
        finite(&format!("{at}.camera.origin"), &c.origin)?;
        finite(&format!("{at}.camera.look_at"), &c.look_at)?;
        if c.origin == c.look_at {
            return Err(FieldError::new(
                &format!("{at}.camera.look_at"),
                "the camera looks at its own origin".to_string(),
            ));
        }
        if !(c.fov_deg > 0.0 && c.fov_deg < 180.0) {
            return Err(FieldError::new(
                &format!("{at}.camera.fov_deg"),
                format!("{}; must be within 0 < fov < 180 (degrees)", c.fov_deg),
            ));
        }
        let tan_half = (c.fov_deg.to_radians() / 2.0).tan() as f32;
        let mut values: Vec<f32> = c.origin.to_vec();
        values.extend(c.look_at);
        values.push(tan_half);
        for (i, s) in self.spheres.iter().enumerate() {
            let f = |name: &str| format!("{at}.sphere[{i}].{name}");
            finite(&f("center"), &s.center)?;
            if !(s.radius.is_finite() && s.radius > 0.0) {
                return Err(FieldError::new(
                    &f("radius"),
                    format!("{}; must be > 0", s.radius),
                ));
            }
            albedo(&f("albedo"), &s.albedo)?;
            values.extend(s.center);
            values.push(s.radius);
            values.extend(s.albedo);
            values.push(s.material.code());
        }
        for (i, p) in self.planes.iter().enumerate() {
            let f = |name: &str| format!("{at}.plane[{i}].{name}");
            finite(&f("normal"), &p.normal)?;
            if p.normal == [0.0; 3] {
                return Err(FieldError::new(&f("normal"), "is zero".to_string()));
            }
            finite(&f("offset"), &[p.offset])?;
            albedo(&f("albedo"), &p.albedo)?;
            values.extend(p.normal);
            values.push(p.offset);
            values.extend(p.albedo);
            values.push(p.material.code());
        }
        let mut out = (self.spheres.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&(self.planes.len() as u32).to_le_bytes());
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ok(out)
    }

    /// The scene a kernel input describes (the input has passed the kernel's check).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let word = |i: usize| -> Option<[u8; 4]> { bytes.get(4 * i..4 * i + 4)?.try_into().ok() };
        let spheres = u32::from_le_bytes(word(0)?) as usize;
        let planes = u32::from_le_bytes(word(1)?) as usize;
        let values: Vec<f32> = (2..bytes.len() / 4)
            .map(|i| word(i).map(f32::from_le_bytes))
            .collect::<Option<_>>()?;
        if values.len() != 7 + 8 * (spheres + planes) {
            return None;
        }
        let v3 = |at: usize| [values[at], values[at + 1], values[at + 2]];
        let camera = CameraSpec {
            origin: v3(0),
            look_at: v3(3),
            fov_deg: (f64::from(values[6]).atan() * 2.0).to_degrees(),
        };
        let object = |i: usize| 7 + 8 * i;
        Some(SceneSpec {
            camera,
            spheres: (0..spheres)
                .map(|i| {
                    let at = object(i);
                    SphereSpec {
                        center: v3(at),
                        radius: values[at + 3],
                        albedo: v3(at + 4),
                        material: Material::from_code(values[at + 7]),
                    }
                })
                .collect(),
            planes: (0..planes)
                .map(|i| {
                    let at = object(spheres + i);
                    PlaneSpec {
                        normal: v3(at),
                        offset: values[at + 3],
                        albedo: v3(at + 4),
                        material: Material::from_code(values[at + 7]),
                    }
                })
                .collect(),
        })
    }
}
