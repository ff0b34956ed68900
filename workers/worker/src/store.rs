//! Content-addressed result store on disk: `results/<root hex>`.
use std::path::{Path, PathBuf};

use anyhow::Context;

pub struct ResultStore {
    dir: PathBuf,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl ResultStore {
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, root: &[u8; 32]) -> PathBuf {
        self.dir.join(hex(root))
    }

    /// Stores `output` under `root` (written to a temporary file, then renamed).
    pub fn put(&self, root: &[u8; 32], output: &[u8]) -> anyhow::Result<()> {
        let tmp = self.dir.join(format!("{}.tmp", hex(root)));
        std::fs::write(&tmp, output)?;
        std::fs::rename(&tmp, self.path(root))?;
        Ok(())
    }

    /// Removes what is stored under `root`, if anything.
    pub fn remove(&self, root: &[u8; 32]) -> anyhow::Result<()> {
        match std::fs::remove_file(self.path(root)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub fn get(&self, root: &[u8; 32]) -> anyhow::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(root)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
