//! [`Chain`] over a Solana JSON-RPC node (solana-test-validator, devnet, mainnet).
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_account::Account;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_clock::Clock;
use solana_commitment_config::CommitmentConfig;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signature::Signature;

use crate::chain::{AccountFilter, Chain, ChainError};
use crate::transaction::sign;

/// Most accounts `getMultipleAccounts` returns per request.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;

/// A chain reached over JSON-RPC at `confirmed` commitment.
pub struct RpcChain {
    client: RpcClient,
}

impl RpcChain {
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_commitment(url, CommitmentConfig::confirmed())
    }

    pub fn with_commitment(url: impl Into<String>, commitment: CommitmentConfig) -> Self {
        Self {
            client: RpcClient::new_with_commitment(url.into(), commitment),
        }
    }

    pub fn url(&self) -> String {
        self.client.url()
    }

    /// The underlying client, for calls the trait does not cover (airdrops on localnet).
    pub fn client(&self) -> &RpcClient {
        &self.client
    }
}

fn rpc_error(err: ClientError) -> ChainError {
    match err.get_transaction_error() {
        Some(error) => ChainError::Transaction {
            error,
            logs: Vec::new(),
        },
        None => ChainError::Rpc(err.to_string()),
    }
}

/// The RPC form of our filters.
pub fn rpc_filters(filters: &[AccountFilter]) -> Vec<RpcFilterType> {
    filters
        .iter()
        .map(|f| match f {
            AccountFilter::Memcmp { offset, bytes } => {
                RpcFilterType::Memcmp(Memcmp::new_raw_bytes(*offset, bytes.clone()))
            }
            AccountFilter::DataSize(len) => RpcFilterType::DataSize(*len),
        })
        .collect()
}

/// Decodes the Clock sysvar's bytes (five little-endian 8-byte fields).
pub fn decode_clock(data: &[u8]) -> Result<Clock, ChainError> {
    let field = |i: usize| -> Result<[u8; 8], ChainError> {
        data.get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ChainError::Decode(format!("clock sysvar is {} bytes", data.len())))
    };
    Ok(Clock {
        slot: u64::from_le_bytes(field(0)?),
        epoch_start_timestamp: i64::from_le_bytes(field(1)?),
        epoch: u64::from_le_bytes(field(2)?),
        leader_schedule_epoch: u64::from_le_bytes(field(3)?),
        unix_timestamp: i64::from_le_bytes(field(4)?),
    })
}

impl Chain for RpcChain {
    async fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        let blockhash = self
            .client
            .get_latest_blockhash()
            .await
            .map_err(rpc_error)?;
        let tx = sign(instructions, payer, signers, blockhash)?;
        self.client
            .send_and_confirm_transaction(&tx)
            .await
            .map_err(rpc_error)
    }

    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, ChainError> {
        self.client
            .get_account_with_commitment(address, self.client.commitment())
            .await
            .map(|response| response.value)
            .map_err(rpc_error)
    }

    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError> {
        let mut out = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(MAX_MULTIPLE_ACCOUNTS) {
            out.extend(
                self.client
                    .get_multiple_accounts(chunk)
                    .await
                    .map_err(rpc_error)?,
            );
        }
        Ok(out)
    }

    async fn program_accounts(
        &self,
        program: &Pubkey,
        filters: &[AccountFilter],
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        let config = RpcProgramAccountsConfig {
            filters: Some(rpc_filters(filters)),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(self.client.commitment()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let ui_accounts = self
            .client
            .get_program_ui_accounts_with_config(program, config)
            .await
            .map_err(rpc_error)?;
        ui_accounts
            .into_iter()
            .map(|(address, ui)| {
                let account = ui.to_account().ok_or_else(|| {
                    ChainError::Decode(format!("account {address} came back undecodable"))
                })?;
                Ok((address, account))
            })
            .collect()
    }

    async fn clock(&self) -> Result<Clock, ChainError> {
        let id = Pubkey::from_str_const("SysvarC1ock11111111111111111111111111111111");
        let account = self
            .account(&id)
            .await?
            .ok_or_else(|| ChainError::Rpc("the node has no clock sysvar".into()))?;
        decode_clock(&account.data)
    }

    async fn latest_blockhash(&self) -> Result<Hash, ChainError> {
        self.client.get_latest_blockhash().await.map_err(rpc_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_decodes_in_field_order() {
        let mut data = Vec::new();
        for v in [7u64, 100, 3, 4, 1_700_000_000] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let clock = decode_clock(&data).unwrap();
        assert_eq!(clock.slot, 7);
        assert_eq!(clock.epoch_start_timestamp, 100);
        assert_eq!(clock.epoch, 3);
        assert_eq!(clock.leader_schedule_epoch, 4);
        assert_eq!(clock.unix_timestamp, 1_700_000_000);
        assert!(matches!(
            decode_clock(&data[..39]),
            Err(ChainError::Decode(_))
        ));
    }

    #[test]
    fn filters_translate_one_to_one() {
        let filters = rpc_filters(&[
            AccountFilter::Memcmp {
                offset: 8,
                bytes: vec![1, 2],
            },
            AccountFilter::DataSize(42),
        ]);
        assert_eq!(filters.len(), 2);
        assert!(matches!(filters[1], RpcFilterType::DataSize(42)));
        match &filters[0] {
            RpcFilterType::Memcmp(m) => {
                assert_eq!(m.offset(), 8);
                assert_eq!(m.bytes().map(|b| b.to_vec()), Some(vec![1u8, 2]));
            }
            other => panic!("unexpected filter {other:?}"),
        }
    }

    /// A JSON-RPC responder on loopback: answers each request by its method name from
    /// `answers`, and records the request bodies.
    fn serve(answers: Vec<(&'static str, String)>) -> (String, std::sync::mpsc::Receiver<String>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (seen, bodies) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let body = String::from_utf8(body).unwrap();
                let answer = answers
                    .iter()
                    .find(|(method, _)| body.contains(&format!("\"{method}\"")))
                    .map(|(_, result)| result.clone())
                    .unwrap_or_else(|| "null".into());
                let _ = seen.send(body);
                let reply = format!(r#"{{"jsonrpc":"2.0","result":{answer},"id":1}}"#);
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                )
                .unwrap();
            }
        });
        (url, bodies)
    }

    #[tokio::test]
    async fn program_accounts_send_filters_and_decode_base64() {
        use base64::Engine;
        let address = Pubkey::new_unique();
        let owner = Pubkey::new_unique();
        let data = base64::engine::general_purpose::STANDARD.encode([9u8, 8, 7, 6]);
        let (url, bodies) = serve(vec![
            (
                "getProgramAccounts",
                format!(
                    r#"[{{"pubkey":"{address}","account":{{"data":["{data}","base64"],"executable":false,"lamports":4242,"owner":"{owner}","rentEpoch":0,"space":4}}}}]"#
                ),
            ),
            (
                "getVersion",
                r#"{"solana-core":"4.2.2","feature-set":1}"#.into(),
            ),
        ]);
        let chain = RpcChain::new(url);
        let found = chain
            .program_accounts(
                &owner,
                &[
                    AccountFilter::Memcmp {
                        offset: 8,
                        bytes: vec![1, 2, 3],
                    },
                    AccountFilter::DataSize(4),
                ],
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, address);
        assert_eq!(found[0].1.data, vec![9, 8, 7, 6]);
        assert_eq!((found[0].1.lamports, found[0].1.owner), (4242, owner));
        let request = bodies
            .try_iter()
            .find(|b| b.contains("getProgramAccounts"))
            .expect("a getProgramAccounts request");
        assert!(request.contains(&owner.to_string()), "{request}");
        assert!(request.contains(r#""offset":8"#), "{request}");
        assert!(request.contains(r#""dataSize":4"#), "{request}");
        assert!(request.contains(r#""encoding":"base64""#), "{request}");
    }

    #[tokio::test]
    async fn missing_account_is_none_and_clock_decodes() {
        use base64::Engine;
        let mut clock = Vec::new();
        for v in [11u64, 0, 1, 2, 1_767_225_600] {
            clock.extend_from_slice(&v.to_le_bytes());
        }
        let clock = base64::engine::general_purpose::STANDARD.encode(clock);
        let sysvar = Pubkey::from_str_const("Sysvar1111111111111111111111111111111111111");
        let (url, _) = serve(vec![(
            "getAccountInfo",
            format!(
                r#"{{"context":{{"slot":11}},"value":{{"data":["{clock}","base64"],"executable":false,"lamports":1,"owner":"{sysvar}","rentEpoch":0,"space":40}}}}"#
            ),
        )]);
        let chain = RpcChain::new(url);
        let now = chain.clock().await.unwrap();
        assert_eq!((now.slot, now.unix_timestamp), (11, 1_767_225_600));

        let (url, _) = serve(vec![(
            "getAccountInfo",
            r#"{"context":{"slot":11},"value":null}"#.into(),
        )]);
        let chain = RpcChain::new(url);
        assert!(chain
            .account(&Pubkey::new_unique())
            .await
            .unwrap()
            .is_none());
    }

    /// Nothing listens on port 9 (discard) of loopback: the error must be an RPC error, not a
    /// panic or a hang.
    #[tokio::test]
    async fn unreachable_node_is_an_rpc_error() {
        let chain = RpcChain::new("http://127.0.0.1:9");
        let err = chain.latest_blockhash().await.unwrap_err();
        assert!(matches!(err, ChainError::Rpc(_)), "{err}");
    }
}
