//! The worker's HTTP server: results (only once their job has settled, so no other node can
//! copy them during the reveal phase or an escalation) and Prometheus metrics.
//!
//! - `GET /v1/results/{root}`: the output whose result root is `root` (64 hex digits).
//! - `GET /v1/results/{root}/chunks/{index}`: one chunk and its Merkle inclusion proof (JSON).
//! - `GET /metrics`: Prometheus text.
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tessera_kernels::merkle;
use tessera_sdk::chain::{fetch, Chain};
use tessera_sdk::tessera::state::{Job, JobStatus};

use crate::db::Db;
use crate::metrics::Metrics;
use crate::store::{hex, parse_hex32, ResultStore};

pub struct ServerState<C> {
    pub chain: Arc<C>,
    pub db: Arc<Db>,
    pub results: Arc<ResultStore>,
    pub metrics: Arc<Metrics>,
}

impl<C> Clone for ServerState<C> {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            db: self.db.clone(),
            results: self.results.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

pub fn router<C: Chain + 'static>(state: ServerState<C>) -> Router {
    Router::new()
        .route("/metrics", get(metrics::<C>))
        .route("/v1/results/{root}", get(result::<C>))
        .route("/v1/results/{root}/chunks/{index}", get(chunk::<C>))
        .with_state(state)
}

async fn metrics<C: Chain>(State(state): State<ServerState<C>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

/// The stored output for `root`, if its job has settled (or is gone).
async fn servable<C: Chain>(state: &ServerState<C>, root: &str) -> Result<Vec<u8>, Response> {
    let root = parse_hex32(root)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "root must be 64 hex digits"))?;
    let job: Pubkey = state
        .db
        .job_of_root(&root)
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "no result with this root here"))?;
    let account: Option<Job> = fetch(&*state.chain, &job).await.map_err(|e| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read job {job}: {e}"),
        )
    })?;
    if let Some(job_state) = account {
        if job_state.status == JobStatus::Open {
            return Err(error(
                StatusCode::TOO_EARLY,
                format!(
                    "job {job} has not settled: results are served only after its reveal phase"
                ),
            ));
        }
    }
    state
        .results
        .get(&root)
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                "the output for this root is not stored here",
            )
        })
}

async fn result<C: Chain>(
    State(state): State<ServerState<C>>,
    Path(root): Path<String>,
) -> Response {
    match servable(&state, &root).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        Err(response) => response,
    }
}

async fn chunk<C: Chain>(
    State(state): State<ServerState<C>>,
    Path((root, index)): Path<(String, u64)>,
) -> Response {
    let bytes = match servable(&state, &root).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let Some(proof) = merkle::prove(&bytes, index) else {
        return error(StatusCode::NOT_FOUND, "no such chunk");
    };
    let start = (index as usize) * merkle::CHUNK_SIZE;
    let chunk = &bytes[start.min(bytes.len())..(start + merkle::CHUNK_SIZE).min(bytes.len())];
    let body = serde_json::json!({
        "root": root,
        "len": bytes.len(),
        "index": index,
        "chunk_hex": hex(chunk),
        "siblings": proof.siblings.iter().map(|s| hex(s)).collect::<Vec<_>>(),
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
