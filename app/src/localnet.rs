//! The deploy-time initializer (`tessera migrate`, also what `migrations/deploy.sh` runs) and
//! `tessera localnet`: a real `solana-test-validator` with the program, a mint, an initialized
//! network, a token faucet, and an addresses file for the CLI and workers.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_sdk::chain::{fetch, Chain};
use tessera_sdk::tessera::state::{Config as NetworkConfig, Params};
use tessera_sdk::{instructions as ix, pda, token, RpcChain};

/// Parameters a new network starts with (governance changes them later).
pub fn default_params() -> Params {
    Params {
        min_stake: 10_000_000,
        unstake_cooldown_secs: 86_400,
        protocol_fee_bps: 250,
        slash_bps: 5_000,
        no_show_bps: 1_000,
        max_replicas: 5,
        commit_window_secs: 600,
        reveal_window_secs: 600,
        max_job_duration_secs: 7 * 86_400,
        allowed_kernels: 0b11_1110,
        escalation_replicas: 2,
        priority_window_secs: 60,
        sortition_weight: 1_000_000_000_000,
        unavailable_comp_bps: 2_000,
        expiry_grace_secs: 3_600,
        expiry_bounty_bps: 1_000,
        // Spot checks: 10% of spot-check jobs audited by 2 auditors, rewards up to 0.25 token.
        // The deterrence rule (Params::spot_check_deters), in basis points:
        // 1,000 × 5,000 × 10,000,000 = 5.0e13 ≥ 20,000 × 9,000 × 250,000 = 4.5e13.
        audit_bps: 1_000,
        audit_replicas: 2,
        max_audited_reward: 250_000,
        // 0.01 token: with the 2.5% fee, every self-dealt job costs its submitter real money.
        min_reward: 10_000,
        // Every kernel with a referee step has its disagreements decided by dispute games
        // (docs/disputes.md), not by escalation and votes; governance may turn a kernel off.
        refereed_kernels: tessera_sdk::tessera::constants::REFEREE_KERNELS,
        game_clock_secs: 600,
        game_open_window_secs: 600,
        game_bond_lamports: 10_000_000,
        challenge_window_secs: 0,
        challenge_reward_bps: 5_000,
    }
}

/// Initializes the network for `mint` unless it already is; idempotent. Fails if the
/// cluster's network uses another mint. Returns the config.
pub async fn migrate<C: Chain>(
    chain: &C,
    authority: &Keypair,
    mint: &Pubkey,
    params: Params,
) -> anyhow::Result<NetworkConfig> {
    if let Some(existing) = fetch::<NetworkConfig, _>(chain, &pda::config().0).await? {
        if existing.mint != *mint {
            bail!(
                "the network on this cluster is already initialized with mint {} (not {mint})",
                existing.mint
            );
        }
        // Initialized by us, or by us and then handed over to governance; anything else is
        // someone else's network (a front-run `initialize` on a program without an upgrade
        // authority check, or the wrong cluster).
        let ours =
            existing.authority == authority.pubkey() || existing.authority == pda::governance().0;
        if !ours {
            bail!(
                "the network on this cluster was initialized by {} (not this keypair, {}, nor                  governance): refusing to use it; check --url and --keypair",
                existing.authority,
                authority.pubkey()
            );
        }
        println!("network already initialized (config {})", pda::config().0);
        return Ok(existing);
    }
    chain
        .send(
            &[ix::initialize(&authority.pubkey(), mint, params)],
            authority,
            &[],
        )
        .await
        .context("initialize")?;
    let config = fetch::<NetworkConfig, _>(chain, &pda::config().0)
        .await?
        .context("the config is missing after initialize")?;
    println!("network initialized (config {})", pda::config().0);
    Ok(config)
}

pub fn print_addresses(config: &NetworkConfig) {
    println!("program      {}", tessera_sdk::tessera::ID);
    println!("config       {}", pda::config().0);
    println!("authority    {}", config.authority);
    println!("mint         {}", config.mint);
    println!("stake vault  {}", config.stake_vault);
    println!("escrow vault {}", config.escrow_vault);
    println!("treasury     {}", config.treasury);
}

/// Mints `amount` into `owner`'s associated token account of `mint` (created if missing):
/// the account the CLI uses by default, so a funded wallet needs no `--token-account`.
pub async fn fund<C: Chain>(
    chain: &C,
    authority: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> anyhow::Result<Pubkey> {
    let account = token::associated_token_address(owner, mint);
    let ixs = [
        token::create_associated_token_account(&authority.pubkey(), owner, mint),
        token::mint_to(mint, &account, &authority.pubkey(), amount)?,
    ];
    chain
        .send(&ixs, authority, &[])
        .await
        .context("create and fund the associated token account")?;
    Ok(account)
}

async fn wait_for(chain: &RpcChain, seconds: u64) -> anyhow::Result<()> {
    for _ in 0..seconds * 4 {
        if chain.clock().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("the validator did not answer within {seconds} s")
}

/// Retries `send` while the validator has not yet deployed its genesis programs: right
/// after start-up a program loaded at genesis answers "Unsupported program id" ("Program is
/// not deployed") for a few seconds. Any other error is returned at once.
async fn send_once_deployed<F, Fut, T>(what: &str, mut send: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tessera_sdk::ChainError>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match send().await {
            Ok(v) => return Ok(v),
            Err(e)
                if e.to_string().contains("nsupported program id")
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(anyhow::Error::new(e).context(what.to_string())),
        }
    }
}

/// What `tessera localnet` sets up on a running validator: a mint (the authority is its
/// mint authority), the network initialized through [`migrate`], and the addresses file.
/// Returns the network's config.
pub async fn set_up(
    chain: &RpcChain,
    authority: &Keypair,
    url: &str,
    addresses: &Path,
    faucet_port: u16,
    refereed: bool,
) -> anyhow::Result<NetworkConfig> {
    let lamports = chain
        .client()
        .get_balance(&authority.pubkey())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if lamports < 1_000_000_000 {
        let signature = chain
            .client()
            .request_airdrop(&authority.pubkey(), 100_000_000_000)
            .await
            .map_err(|e| anyhow::anyhow!("airdrop to the authority: {e}"))?;
        for _ in 0..120 {
            if chain
                .client()
                .confirm_transaction(&signature)
                .await
                .unwrap_or(false)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let mint = Keypair::new();
    let rent = chain
        .client()
        .get_minimum_balance_for_rent_exemption(token::MINT_LEN)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let create = token::create_mint(
        &authority.pubkey(),
        &mint.pubkey(),
        &authority.pubkey(),
        6,
        rent,
    )?;
    let signers = [&mint];
    send_once_deployed("create the mint", || {
        chain.send(&create, authority, &signers)
    })
    .await?;
    // A local network has a handful of nodes: every staked node holds priority tickets, and
    // phases are short enough to watch.
    let mut params = Params {
        sortition_weight: 1,
        commit_window_secs: 120,
        reveal_window_secs: 60,
        ..default_params()
    };
    if refereed {
        // Disagreements go to dispute games (every kernel with a referee step); a minute on
        // each side's clock; accepted results stay open to challenges for 20 s.
        params.game_clock_secs = 60;
        params.game_open_window_secs = 60;
        params.challenge_window_secs = 20;
    } else {
        // `--voting`: escalation and votes decide, as before the referee (for comparison).
        params.refereed_kernels = 0;
    }
    let config = migrate(chain, authority, &mint.pubkey(), params).await?;
    print_addresses(&config);
    let addresses_json = serde_json::json!({
        "url": url,
        "program": tessera_sdk::tessera::ID.to_string(),
        "config": pda::config().0.to_string(),
        "mint": config.mint.to_string(),
        "faucet": format!("http://127.0.0.1:{faucet_port}/fund/<wallet>?tokens=<amount>"),
    });
    if let Some(dir) = addresses.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // Written whole, then renamed: a reader never sees half a file.
    let partial = addresses.with_extension("partial");
    std::fs::write(&partial, serde_json::to_string_pretty(&addresses_json)?)?;
    std::fs::rename(&partial, addresses)?;
    println!("addresses written to {}", addresses.display());
    Ok(config)
}

/// Where `tessera localnet` gets its validator.
pub enum Validator<'a> {
    /// Start `solana-test-validator` with the program.
    Start {
        so: &'a Path,
        ledger: &'a Path,
        rpc_port: u16,
    },
    /// Use one already running with the program (e.g. the one `anchor test` starts).
    Attach { url: String },
}

/// `tessera localnet`.
pub async fn localnet(
    authority: Keypair,
    validator: Validator<'_>,
    addresses: &Path,
    faucet_port: u16,
    refereed: bool,
) -> anyhow::Result<()> {
    let (url, mut child) = match validator {
        Validator::Start {
            so,
            ledger,
            rpc_port,
        } => {
            if !so.exists() {
                bail!(
                    "{} is missing: build the program with scripts/build-sbf.sh",
                    so.display()
                );
            }
            let validator = which("solana-test-validator").context(
                "solana-test-validator is not on PATH: run scripts/install-solana-tools.sh and add the folder it prints to PATH",
            )?;
            std::fs::create_dir_all(ledger)?;
            let child = tokio::process::Command::new(&validator)
                .arg("--reset")
                .arg("--quiet")
                .arg("--ledger")
                .arg(ledger)
                .arg("--rpc-port")
                .arg(rpc_port.to_string())
                .arg("--faucet-port")
                .arg((rpc_port + 1000).to_string())
                .arg("--mint")
                .arg(authority.pubkey().to_string())
                // Upgradeable, with the localnet's authority as upgrade authority: only it
                // may initialize the network.
                .arg("--upgradeable-program")
                .arg(tessera_sdk::tessera::ID.to_string())
                .arg(so)
                .arg(authority.pubkey().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("cannot start {}", validator.display()))?;
            (format!("http://127.0.0.1:{rpc_port}"), Some(child))
        }
        Validator::Attach { url } => (url, None),
    };
    let chain = RpcChain::new(url.clone());
    wait_for(&chain, 60).await?;
    match &child {
        Some(_) => println!("solana-test-validator at {url}"),
        None => println!("using the validator at {url}"),
    }
    let program = chain
        .account(&tessera_sdk::tessera::ID)
        .await?
        .with_context(|| {
            format!(
                "the Tessera program {} is not deployed at {url}",
                tessera_sdk::tessera::ID
            )
        })?;
    if !program.executable {
        bail!(
            "{} at {url} is not an executable program",
            tessera_sdk::tessera::ID
        );
    }
    let config = set_up(&chain, &authority, &url, addresses, faucet_port, refereed).await?;

    let faucet = faucet_router(chain, authority, config.mint);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", faucet_port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{faucet_port} for the faucet"))?;
    println!("token faucet at http://127.0.0.1:{faucet_port}/fund/<wallet>?tokens=<amount> (SOL and tokens)");
    println!("Ctrl-C (or SIGTERM) stops the validator");
    let exited = async {
        match child.as_mut() {
            Some(c) => c.wait().await,
            None => std::future::pending().await,
        }
    };
    // SIGTERM as well as Ctrl-C: a supervisor (or scripts/e2e.sh) stopping localnet must not
    // leave the validator running.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = axum::serve(listener, faucet) => r?,
        _ = tokio::signal::ctrl_c() => println!("stopping"),
        _ = term.recv() => println!("stopping (SIGTERM)"),
        status = exited => bail!("solana-test-validator exited: {status:?}"),
    }
    if let Some(mut child) = child {
        child.kill().await.ok();
        child.wait().await.ok();
        println!("validator stopped");
    }
    Ok(())
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

fn faucet_router(chain: RpcChain, authority: Keypair, mint: Pubkey) -> axum::Router {
    use axum::extract::{Path as UrlPath, Query, State};
    use std::sync::Arc;
    #[derive(serde::Deserialize)]
    struct Amount {
        tokens: Option<u64>,
    }
    struct Faucet {
        chain: RpcChain,
        authority: Keypair,
        mint: Pubkey,
    }
    async fn fund_wallet(
        State(f): State<Arc<Faucet>>,
        UrlPath(wallet): UrlPath<String>,
        Query(q): Query<Amount>,
    ) -> (axum::http::StatusCode, String) {
        let Ok(owner) = wallet.parse::<Pubkey>() else {
            return (
                axum::http::StatusCode::BAD_REQUEST,
                format!("{wallet} is not an address"),
            );
        };
        let sol = f
            .chain
            .client()
            .request_airdrop(&owner, 10_000_000_000)
            .await;
        if let Err(e) = sol {
            return (axum::http::StatusCode::BAD_GATEWAY, format!("airdrop: {e}"));
        }
        match fund(
            &f.chain,
            &f.authority,
            &f.mint,
            &owner,
            q.tokens.unwrap_or(1_000_000_000),
        )
        .await
        {
            Ok(account) => (axum::http::StatusCode::OK, format!("{account}\n")),
            Err(e) => (axum::http::StatusCode::BAD_GATEWAY, format!("{e:#}")),
        }
    }
    axum::Router::new()
        .route("/fund/{wallet}", axum::routing::get(fund_wallet))
        .with_state(Arc::new(Faucet {
            chain,
            authority,
            mint,
        }))
}
