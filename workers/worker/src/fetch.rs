//! Inputs: fetched through `object_store` (file://, http(s)://; s3:// with the `s3` feature),
//! checked against the size and the input root the job names before anything runs on them.
//! The input root is the result tree of `tessera_step::tree` over the input's bytes (not a
//! plain SHA-256), so that a dispute can open any one operand on chain.
use object_store::ObjectStore;
use url::Url;

/// Why an input cannot be used; every case leads to the "input unavailable or invalid"
/// outcome, never to a wrong result.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input URI {0}: {1}")]
    Uri(String, String),
    #[error("input {0} unavailable: {1}")]
    Unavailable(String, String),
    #[error("input {uri} is {actual} bytes; the job says {expected}")]
    Size {
        uri: String,
        expected: u64,
        actual: u64,
    },
    #[error("input {uri} is larger than this worker's limit of {limit} bytes")]
    TooLarge { uri: String, limit: u64 },
    #[error("input {0} does not match the job's input root")]
    Hash(String),
}

/// Downloads the input at `uri` and checks it.
pub async fn fetch(
    uri: &str,
    size: u64,
    root: &[u8; 32],
    limit: u64,
) -> Result<Vec<u8>, InputError> {
    if size > limit {
        return Err(InputError::TooLarge {
            uri: uri.into(),
            limit,
        });
    }
    let url = Url::parse(uri).map_err(|e| InputError::Uri(uri.into(), e.to_string()))?;
    let (store, path) = object_store::parse_url_opts(&url, [("allow_http", "true")])
        .map_err(|e| InputError::Uri(uri.into(), e.to_string()))?;
    let unavailable = |e: object_store::Error| InputError::Unavailable(uri.into(), e.to_string());
    let found = store.get(&path).await.map_err(unavailable)?;
    let actual = found.meta.size;
    if actual != size {
        return Err(InputError::Size {
            uri: uri.into(),
            expected: size,
            actual,
        });
    }
    let bytes = found.bytes().await.map_err(unavailable)?;
    if bytes.len() as u64 != size {
        return Err(InputError::Size {
            uri: uri.into(),
            expected: size,
            actual: bytes.len() as u64,
        });
    }
    if &input_root(&bytes) != root {
        return Err(InputError::Hash(uri.into()));
    }
    Ok(bytes.to_vec())
}

/// The input root of `bytes` (what a submitter puts in a job's input reference).
pub fn input_root(bytes: &[u8]) -> [u8; 32] {
    tessera_kernels::merkle::root(bytes)
}
