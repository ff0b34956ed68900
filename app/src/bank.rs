//! The in-process network shared by `tessera demo` and `tessera sim`: a bank with the program,
//! an initialized network on a fresh mint, funded actors, and the conservation check.
use std::path::Path;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_kernels::backend::Cpu;
use tessera_kernels::{merkle, Backend, Job as KernelJob};
use tessera_sdk::in_process::{InProcessChain, ProgramMode};
use tessera_sdk::tessera::instructions::PostJobArgs;
use tessera_sdk::tessera::state::{HardwareProfile, InputRef, Params, Requirements};
use tessera_sdk::{instructions as ix, pda, token};
use tessera_worker::behaviour::Behaviour;
use tessera_worker::db::Db;
use tessera_worker::metrics::Metrics;
use tessera_worker::retry::Backoff;
use tessera_worker::store::ResultStore;
use tessera_worker::{fetch, Agent, AgentSettings};

pub const SOL: u64 = 1_000_000_000;

/// The bank, its mint, and every token account created through it (for the conservation
/// check).
pub struct Bank {
    pub chain: Arc<InProcessChain>,
    pub authority: Keypair,
    pub mint: Pubkey,
    pub token_accounts: Vec<Pubkey>,
}

impl Bank {
    /// A bank with the program (native, or the `.so` with `TESSERA_PROGRAM_MODE=sbf`), a mint
    /// of six decimals and the network initialized with `params`.
    pub fn boot(params: Params) -> anyhow::Result<Self> {
        Self::boot_with(params, Keypair::new(), Keypair::new())
    }

    /// [`Bank::boot`] with the authority and mint keys given (a reproducible simulation).
    pub fn boot_with(params: Params, authority: Keypair, mint: Keypair) -> anyhow::Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let chain = Arc::new(InProcessChain::new(ProgramMode::from_env(&root)?)?);
        chain.airdrop(&authority.pubkey(), 1_000 * SOL)?;
        // The deployer: only the program's upgrade authority may initialize the network.
        chain.set_upgrade_authority(&authority.pubkey())?;
        let rent = chain.rent_exempt_minimum(token::MINT_LEN);
        let create = token::create_mint(
            &authority.pubkey(),
            &mint.pubkey(),
            &authority.pubkey(),
            6,
            rent,
        )?;
        chain.process(&create, &authority, &[&mint])?;
        chain.process(
            &[ix::initialize(&authority.pubkey(), &mint.pubkey(), params)],
            &authority,
            &[],
        )?;
        Ok(Self {
            chain,
            authority,
            mint: mint.pubkey(),
            token_accounts: vaults().to_vec(),
        })
    }

    /// A funded wallet and its token account holding `tokens`.
    pub fn actor(&mut self, tokens: u64) -> anyhow::Result<(Keypair, Pubkey)> {
        self.actor_with(Keypair::new(), Keypair::new(), tokens)
    }

    /// [`Bank::actor`] with the wallet and token account keys given.
    pub fn actor_with(
        &mut self,
        wallet: Keypair,
        account: Keypair,
        tokens: u64,
    ) -> anyhow::Result<(Keypair, Pubkey)> {
        self.chain.airdrop(&wallet.pubkey(), 10 * SOL)?;
        let rent = self.chain.rent_exempt_minimum(token::TOKEN_ACCOUNT_LEN);
        let create = token::create_token_account(
            &self.authority.pubkey(),
            &account.pubkey(),
            &self.mint,
            &wallet.pubkey(),
            rent,
        )?;
        self.chain.process(&create, &self.authority, &[&account])?;
        let mint_to = token::mint_to(
            &self.mint,
            &account.pubkey(),
            &self.authority.pubkey(),
            tokens,
        )?;
        self.chain.process(&[mint_to], &self.authority, &[])?;
        self.token_accounts.push(account.pubkey());
        Ok((wallet, account.pubkey()))
    }

    /// Tokens in a token account (0 when there is none).
    pub fn balance(&self, account: &Pubkey) -> u64 {
        self.chain
            .get_account(account)
            .and_then(|a| token::decode_token_account(&a.data).ok())
            .map_or(0, |t| t.amount)
    }

    /// What is wrong with the token books, if anything: every token of the supply must sit in
    /// an account created through this bank, the stake vault must hold exactly the nodes'
    /// stake, cooldown and earnings (`nodes_total`), and the escrow vault exactly the open
    /// jobs' escrow (`escrowed`).
    pub fn conservation_problems(&self, nodes_total: u128, escrowed: u128) -> Vec<String> {
        let mut problems = Vec::new();
        let supply = self
            .chain
            .get_account(&self.mint)
            .and_then(|a| token::decode_mint(&a.data).ok())
            .map_or(0, |m| m.supply);
        let held: u128 = self
            .token_accounts
            .iter()
            .map(|a| u128::from(self.balance(a)))
            .sum();
        if held != u128::from(supply) {
            problems.push(format!(
                "tokens not conserved: supply {supply}, accounts hold {held}"
            ));
        }
        if u128::from(self.balance(&pda::stake_vault().0)) != nodes_total {
            problems
                .push("stake vault differs from the nodes' stake, cooldown and earnings".into());
        }
        if u128::from(self.balance(&pda::escrow_vault().0)) != escrowed {
            problems.push("escrow vault differs from the jobs' escrow".into());
        }
        problems
    }
}

/// The three vault PDAs: stake, escrow, treasury.
fn vaults() -> [Pubkey; 3] {
    [
        pda::stake_vault().0,
        pda::escrow_vault().0,
        pda::treasury().0,
    ]
}

/// What an in-process operator runs with.
pub struct AgentSpec<'a> {
    pub name: &'a str,
    pub behaviour: Behaviour,
    pub hardware: HardwareProfile,
    pub stake: u64,
    pub concurrency: usize,
    /// Share of others' challengeable results it recomputes (`AgentSettings::watch_bps`).
    pub watch_bps: u16,
    /// The worker's database and result store go under `dir`.
    pub dir: &'a Path,
}

/// A real worker agent for an in-process operator: CPU kernels on one thread, its own redb
/// database and result store, registered and staked. Returns the agent, its result store
/// and its metrics.
pub async fn start_agent(
    bank: &Bank,
    wallet: Keypair,
    token_account: Pubkey,
    spec: AgentSpec<'_>,
) -> anyhow::Result<(Agent<InProcessChain>, Arc<ResultStore>, Arc<Metrics>)> {
    let results = Arc::new(ResultStore::open(&spec.dir.join("results"))?);
    let metrics = Arc::new(Metrics::default());
    let agent = Agent::new(
        bank.chain.clone(),
        wallet,
        AgentSettings {
            node_index: 0,
            token_account: Some(token_account),
            concurrency: spec.concurrency,
            region: 3,
            min_price_per_unit: 1,
            cost_per_unit: 0,
            stake: spec.stake,
            endpoint: format!("http://{}.sim.invalid:8650", spec.name),
            max_input_bytes: 64 << 20,
            behaviour: spec.behaviour,
            backoff: Backoff::default(),
            initial_secs_per_unit: 0.001,
            safety_secs: 30,
            watch_bps: spec.watch_bps,
        },
        Arc::new(Backend::Cpu(Cpu::new(1)?)),
        spec.hardware,
        Arc::new(Db::open(&spec.dir.join("worker.redb"))?),
        results.clone(),
        metrics.clone(),
    );
    agent
        .ensure_registered()
        .await
        .with_context(|| format!("registering {}", spec.name))?;
    Ok((agent, results, metrics))
}

/// A kernel job to post from an input file.
pub struct KernelPost<'a> {
    pub nonce: u64,
    pub job: &'a KernelJob,
    /// Written to `path` and referenced as `file://`.
    pub input: &'a [u8],
    pub path: &'a Path,
    pub replicas: u8,
    pub reward: u64,
    pub deadline: i64,
    /// Spot-check mode (`replicas` must be 1).
    pub spot_check: bool,
}

impl Bank {
    /// Writes the input, computes the true result on `cpu`, and posts the job (any hardware,
    /// any region) funded from `submitter_token`. Returns the job's address and true root.
    pub fn post_kernel_job(
        &self,
        submitter: &Keypair,
        submitter_token: &Pubkey,
        post: KernelPost,
        cpu: &Backend,
    ) -> anyhow::Result<(Pubkey, [u8; 32])> {
        let KernelPost {
            nonce,
            job,
            input,
            path,
            ..
        } = post;
        std::fs::write(path, input).with_context(|| format!("cannot write {}", path.display()))?;
        let expected_root = merkle::root(&job.run(input, cpu)?);
        let args = PostJobArgs {
            nonce,
            kernel_id: job.kernel() as u8,
            input: InputRef {
                hash: fetch::input_root(input),
                uri: format!("file://{}", std::fs::canonicalize(path)?.display()),
                size_bytes: input.len() as u64,
            },
            kernel_params: job.encode_params(),
            work_units: job.work_units().max(1),
            replicas: post.replicas,
            reward_per_replica: post.reward,
            deadline: post.deadline,
            requirements: Requirements {
                gpu_required: false,
                min_vram_mib: 0,
                region_mask: u32::MAX,
            },
            spot_check: post.spot_check,
        };
        self.chain.process(
            &[ix::post_job(&submitter.pubkey(), submitter_token, args)],
            submitter,
            &[],
        )?;
        Ok((pda::job(&submitter.pubkey(), nonce).0, expected_root))
    }
}

/// Writes 8-bit pixels (`color`: RGB or RGBA rows, top first) as a PNG.
pub fn write_png(
    path: &Path,
    pixels: &[u8],
    (width, height): (u32, u32),
    color: png::ColorType,
) -> anyhow::Result<()> {
    let expected = width as usize * height as usize * color.samples();
    if pixels.len() != expected {
        anyhow::bail!(
            "{}: {} bytes of pixels for a {width}×{height} image, expected {expected}",
            path.display(),
            pixels.len()
        );
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    encoder.write_header()?.write_image_data(pixels)?;
    Ok(())
}
