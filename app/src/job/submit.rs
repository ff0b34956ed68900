//! `tessera job submit`: a spec file (or, for scripts, `--kernel --params-hex --input`)
//! becomes a [`Plan`]; the plan is checked against the network, its escrow shown, confirmed,
//! and posted — one job per render tile.
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_kernels::Job as KernelJob;
use tessera_sdk::chain::Chain;
use tessera_sdk::tessera::instructions::PostJobArgs;
use tessera_sdk::tessera::state::{Config, InputRef, Job, Requirements};
use tessera_sdk::{instructions as ix, pda, token};
use tessera_worker::store::parse_hex32;

use crate::commands::{
    associated_token_account, from_hex, kernel_id, mint_decimals, network, pubkey, send, SignerFn,
};
use crate::spec::units::{format_duration, Amounts};
use crate::spec::{JobSpec, KernelSpec, Plan, PlannedInput};

#[derive(Args, Default)]
pub struct SubmitArgs {
    /// A job spec file (TOML, docs/job-spec.md; `tessera job template KERNEL` prints one).
    /// Without it, --kernel, --params-hex, --input and --reward describe the job.
    #[arg(conflicts_with_all = ["kernel", "params_hex", "input", "input_root", "input_size", "reward", "replicas", "spot_check", "deadline_secs", "gpu_min_vram", "regions"])]
    pub spec: Option<PathBuf>,
    /// Kernel: render, matmul_f32, matmul_i8, mlp_infer, train_step (or its id).
    #[arg(long, required_unless_present = "spec")]
    pub kernel: Option<String>,
    /// Kernel params, hex (their layout is documented in workers/kernels/src/kernels/).
    #[arg(long, required_unless_present = "spec")]
    pub params_hex: Option<String>,
    /// The input: a local file (hashed and sized here, referenced as file://) or a URI.
    #[arg(long, required_unless_present = "spec")]
    pub input: Option<String>,
    /// Root of a URI input (hex; `tessera job root FILE` prints it). Computed for a local file.
    #[arg(long)]
    pub input_root: Option<String>,
    /// Size of a URI input in bytes; computed for a local file.
    #[arg(long)]
    pub input_size: Option<u64>,
    /// Replicas (default 3).
    #[arg(long)]
    pub replicas: Option<u8>,
    /// Spot-check mode: one replica, audited with the network's probability (`audit_bps`);
    /// the submitter prepays the expected audit cost. Needs `--replicas 1`.
    #[arg(long)]
    pub spot_check: bool,
    /// Reward per replica, in token base units (a spec file gives it in tokens).
    #[arg(long, required_unless_present = "spec")]
    pub reward: Option<u64>,
    /// Seconds from now to the deadline (default 3600).
    #[arg(long)]
    pub deadline_secs: Option<u64>,
    /// Nonce of the first job (default: the current unix time in milliseconds); a render's
    /// tiles take the nonces after it.
    #[arg(long)]
    pub nonce: Option<u64>,
    /// Only GPU nodes with at least this much VRAM (MiB) may claim.
    #[arg(long)]
    pub gpu_min_vram: Option<u32>,
    /// Allowed region codes, comma-separated (default: anywhere).
    #[arg(long)]
    pub regions: Option<String>,
    /// Your token account of the network's mint (pays the escrow); default your wallet's
    /// associated token account.
    #[arg(long)]
    pub token_account: Option<String>,
    /// Post without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// The plan the flags describe (the scripts' path: params already encoded).
fn plan_from_flags(args: &SubmitArgs) -> anyhow::Result<Plan> {
    let (Some(kernel), Some(params_hex), Some(input), Some(reward)) =
        (&args.kernel, &args.params_hex, &args.input, args.reward)
    else {
        bail!("give a spec file, or --kernel, --params-hex, --input and --reward");
    };
    let id = kernel_id(kernel)?;
    let job = KernelJob::decode(id, &from_hex(params_hex)?)
        .with_context(|| format!("the params do not suit kernel {kernel}"))?;
    let input = if Path::new(input).exists() {
        let bytes = std::fs::read(input).with_context(|| format!("cannot read {input}"))?;
        let absolute = std::fs::canonicalize(input)?;
        PlannedInput {
            uri: format!("file://{}", absolute.display()),
            root: tessera_kernels::merkle::root(&bytes),
            size: bytes.len() as u64,
            write: None,
        }
    } else {
        let root = args
            .input_root
            .as_deref()
            .and_then(parse_hex32)
            .with_context(|| {
                format!(
                    "{input} is not a local file: give --input-root (64 hex digits; `tessera job root FILE` prints it) and --input-size"
                )
            })?;
        let size = args.input_size.context("a URI input needs --input-size")?;
        PlannedInput {
            uri: input.clone(),
            root,
            size,
            write: None,
        }
    };
    let region_mask = match &args.regions {
        None => u32::MAX,
        Some(list) => list.split(',').try_fold(0u32, |mask, r| {
            let r: u8 = r
                .trim()
                .parse()
                .with_context(|| format!("region `{r}` is not a number"))?;
            anyhow::ensure!(r < 32, "region {r} must be below 32");
            Ok::<_, anyhow::Error>(mask | 1 << r)
        })?,
    };
    Ok(Plan {
        kernel: KernelSpec::from_jobs(std::slice::from_ref(&job)).context("no kernel")?,
        jobs: vec![job],
        input,
        replicas: args.replicas.unwrap_or(3),
        spot_check: args.spot_check,
        reward,
        deadline_secs: args.deadline_secs.unwrap_or(3_600),
        requirements: Requirements {
            gpu_required: args.gpu_min_vram.is_some(),
            min_vram_mib: args.gpu_min_vram.unwrap_or(0),
            region_mask,
        },
    })
}

/// What one job of the plan escrows, and in what parts.
struct Escrow {
    rewards: u64,
    escalation: u64,
    audit_reserve: u64,
    audit_fee: u64,
    total: u64,
}

fn escrow(plan: &Plan, network: &Config) -> anyhow::Result<Escrow> {
    let p = &network.params;
    let (audit_replicas, audit_fee) = if plan.spot_check {
        (p.audit_replicas, p.audit_fee(plan.reward)?)
    } else {
        (0, 0)
    };
    let part = |n: u8| {
        u64::from(n)
            .checked_mul(plan.reward)
            .context("the reward overflows")
    };
    Ok(Escrow {
        rewards: part(plan.replicas)?,
        escalation: part(p.escalation_replicas)?,
        audit_reserve: part(audit_replicas)?,
        audit_fee,
        total: Job::full_escrow(
            plan.replicas,
            audit_replicas,
            p.escalation_replicas,
            plan.reward,
            audit_fee,
        )?,
    })
}

/// The escrow preview a person confirms.
fn describe_escrow(plan: &Plan, e: &Escrow, network: &Config, a: &Amounts) -> String {
    let n = plan.jobs.len() as u64;
    let jobs = if n == 1 {
        "1 job".to_string()
    } else {
        format!("{n} jobs (one per tile)")
    };
    let mut out = format!(
        "{jobs} of {}, {} work units each, {} replica(s){}, deadline in {}\n",
        plan.kernel.kernel(),
        plan.jobs[0].work_units(),
        plan.replicas,
        if plan.spot_check { " spot-checked" } else { "" },
        format_duration(plan.deadline_secs)
    );
    out.push_str(&format!(
        "  input {} ({} bytes)\n",
        plan.input.uri, plan.input.size
    ));
    out.push_str("escrow per job:\n");
    out.push_str(&format!(
        "  rewards            {:>14}  ({} × {})\n",
        a.show(e.rewards),
        plan.replicas,
        a.show(plan.reward)
    ));
    out.push_str(&format!(
        "  escalation reserve {:>14}  ({} × reward; refunded unless replicas disagree)\n",
        a.show(e.escalation),
        network.params.escalation_replicas
    ));
    if plan.spot_check {
        out.push_str(&format!(
            "  audit reserve      {:>14}  (refunded unless an audit is drawn)\n  audit fee          {:>14}  (the audit's expected cost)\n",
            a.show(e.audit_reserve),
            a.show(e.audit_fee)
        ));
    }
    out.push_str(&format!("  total              {:>14}\n", a.show(e.total)));
    if n > 1 {
        out.push_str(&format!(
            "escrow in all        {:>14}\n",
            a.show(e.total.saturating_mul(n))
        ));
    }
    out.push_str(&format!(
        "  the protocol fee ({:.2} %) comes out of the workers' pay, not the escrow; each job \
         account's rent ({} lamports) comes back when you close it\n",
        f64::from(network.params.protocol_fee_bps) / 100.0,
        job_rent_lamports()
    ));
    out
}

fn job_rent_lamports() -> u64 {
    use anchor_lang::prelude::Rent;
    use anchor_lang::Space;
    Rent::default().minimum_balance(8 + Job::INIT_SPACE)
}

/// Asks on standard input; without an answer (not a terminal, nothing piped) it refuses.
fn confirm(question: &str) -> anyhow::Result<bool> {
    use std::io::Write;
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        println!();
        bail!("no answer on standard input; pass --yes to post without asking");
    }
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// Refuses a scene file that exists with other bytes: a job posted earlier may still read
/// it, so nothing a running job needs is overwritten. `Ok(true)`: it is to be written.
fn scene_to_write(path: &Path, bytes: &[u8]) -> anyhow::Result<bool> {
    match std::fs::read(path) {
        Ok(existing) if existing == bytes => Ok(false),
        Ok(_) => bail!(
            "field `scene`: {} exists and holds another scene (a job posted earlier may still read it); move it away or rename the spec",
            path.display()
        ),
        Err(_) => Ok(true),
    }
}

pub async fn submit<C: Chain>(
    chain: &C,
    signer: SignerFn<'_>,
    args: SubmitArgs,
    base_units: bool,
) -> anyhow::Result<()> {
    // A spec's own fields are checked before the cluster is asked anything.
    let spec = match &args.spec {
        Some(path) => {
            let spec = JobSpec::read(path)?;
            spec.kernel_spec()
                .and_then(|k| k.jobs())
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Some(spec)
        }
        None => None,
    };
    let network = network(chain).await?;
    let decimals = mint_decimals(chain, &network.mint).await?;
    let plan = match (&args.spec, spec) {
        (Some(path), Some(spec)) => {
            let dir = path.parent().unwrap_or(Path::new("."));
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let name = path
                .file_stem()
                .map_or("job".into(), |s| s.to_string_lossy().to_string());
            spec.plan(dir, &name, decimals)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        _ => plan_from_flags(&args)?,
    };
    plan.check_network(&network).map_err(|e| match &args.spec {
        Some(path) => anyhow::anyhow!("{}: {e}", path.display()),
        None => anyhow::anyhow!("{e}"),
    })?;
    let write_scene = match &plan.input.write {
        Some((path, bytes)) => scene_to_write(path, bytes)?,
        None => false,
    };
    let signer = signer()?;
    let amounts = Amounts {
        decimals,
        base_units,
    };
    let escrow = escrow(&plan, &network)?;
    let total = escrow
        .total
        .checked_mul(plan.jobs.len() as u64)
        .context("the escrow overflows")?;
    print!("{}", describe_escrow(&plan, &escrow, &network, &amounts));
    let token = match args.token_account.as_deref() {
        Some(given) => pubkey("token account", given)?,
        None => associated_token_account(chain, &signer, &network.mint).await?,
    };
    let balance = token_balance(chain, &token).await?;
    if balance < total {
        bail!(
            "the token account {token} holds {}; these jobs escrow {} (fund it, or pass --token-account)",
            amounts.show(balance),
            amounts.show(total)
        );
    }
    if !args.yes
        && !confirm(&format!(
            "post, escrowing {} from {token}?",
            amounts.show(total)
        ))?
    {
        bail!("not posted");
    }
    if let (true, Some((path, bytes))) = (write_scene, &plan.input.write) {
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote the scene to {}", path.display());
    }
    let first = args.nonce.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    });
    let now = chain.clock().await?.unix_timestamp;
    let deadline = i64::try_from(plan.deadline_secs)
        .ok()
        .and_then(|d| now.checked_add(d))
        .context("the deadline overflows")?;
    let mut posted = Vec::new();
    for (i, job) in plan.jobs.iter().enumerate() {
        let nonce = first.checked_add(i as u64).context("nonce overflows")?;
        let address = post(chain, &signer, &token, &plan, job, nonce, deadline).await?;
        println!(
            "job {address} (nonce {nonce}); escrowed {}",
            amounts.show(escrow.total)
        );
        posted.push(address.to_string());
    }
    if posted.len() > 1 {
        println!(
            "when they settle: tessera job result {} --out image.png",
            posted.join(" ")
        );
    }
    Ok(())
}

async fn post<C: Chain>(
    chain: &C,
    signer: &Keypair,
    token: &anchor_lang::prelude::Pubkey,
    plan: &Plan,
    job: &KernelJob,
    nonce: u64,
    deadline: i64,
) -> anyhow::Result<anchor_lang::prelude::Pubkey> {
    let args = PostJobArgs {
        nonce,
        kernel_id: job.kernel() as u8,
        input: InputRef {
            hash: plan.input.root,
            uri: plan.input.uri.clone(),
            size_bytes: plan.input.size,
        },
        kernel_params: job.encode_params(),
        work_units: job.work_units().max(1),
        replicas: plan.replicas,
        reward_per_replica: plan.reward,
        deadline,
        requirements: plan.requirements,
        spot_check: plan.spot_check,
    };
    send(
        chain,
        signer,
        ix::post_job(&signer.pubkey(), token, args),
        "post_job",
    )
    .await?;
    Ok(pda::job(&signer.pubkey(), nonce).0)
}

async fn token_balance<C: Chain>(
    chain: &C,
    account: &anchor_lang::prelude::Pubkey,
) -> anyhow::Result<u64> {
    let data = chain
        .account(account)
        .await?
        .with_context(|| format!("no token account at {account}"))?;
    Ok(token::decode_token_account(&data.data)
        .with_context(|| format!("{account} is not a token account"))?
        .amount)
}
