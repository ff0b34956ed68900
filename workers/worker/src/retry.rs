//! Retries of chain calls that failed to reach the node: exponential backoff with jitter.
//! A transaction that failed in the runtime is not retried here: the agent re-reads the chain
//! and decides again, so a transaction that may have landed is never blindly resent.
use std::future::Future;
use std::time::Duration;

use tessera_sdk::ChainError;

use crate::metrics::Metrics;

/// How hard to try.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub attempts: u32,
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            attempts: 5,
            first: Duration::from_millis(200),
            max: Duration::from_secs(5),
        }
    }
}

fn jitter() -> f64 {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    // 0.5 .. 1.5
    0.5 + f64::from(u16::from_le_bytes(b)) / 65_535.0
}

/// Runs `call` until it succeeds, fails with something other than an RPC error, or runs out
/// of attempts. Every RPC failure is counted.
pub async fn retry<T, F, Fut>(
    backoff: Backoff,
    metrics: &Metrics,
    what: &str,
    mut call: F,
) -> Result<T, ChainError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ChainError>>,
{
    let mut delay = backoff.first;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(ChainError::Rpc(e)) => {
                Metrics::inc(&metrics.rpc_errors);
                if attempt >= backoff.attempts {
                    tracing::warn!(what, attempt, error = %e, "giving up after RPC errors");
                    return Err(ChainError::Rpc(e));
                }
                let wait = delay.mul_f64(jitter());
                tracing::warn!(what, attempt, error = %e, ?wait, "RPC error, retrying");
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(backoff.max);
                attempt += 1;
            }
            other => return other,
        }
    }
}
