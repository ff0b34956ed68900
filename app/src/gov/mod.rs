//! `tessera gov`: governance for token holders and operators — deposits, proposals, votes,
//! finalization and execution, with tallies and time left. Through the SDK's `Chain`.
mod describe;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use solana_signer::Signer;
use tessera_sdk::chain::{fetch, list, Chain};
use tessera_sdk::tessera::state::{
    GovParamChanges, GovParams, Governance, Node, ParamChanges, Proposal, ProposalAction,
    VoteChoice, Voter,
};
use tessera_sdk::{instructions as ix, pda};

use crate::commands::{amounts, kernel_id, network, pubkey, send, SignerFn};

use describe::duration;
pub use describe::{describe_action, describe_proposal, phase};

#[derive(Subcommand)]
pub enum GovCommand {
    /// Create the governance PDA and its vault (the network's authority only).
    Init(GovParamArgs),
    /// Hand the network to governance, for good: afterwards only executed proposals change
    /// it (the network's authority only).
    Handover {
        /// Confirms that this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Lock tokens as a governance deposit (voting power for proposals created afterwards).
    Deposit {
        amount: u64,
        /// Your token account of the network's mint.
        #[arg(long)]
        token_account: String,
    },
    /// Withdraw your deposit (not while it backs an open vote).
    Withdraw {
        amount: u64,
        #[arg(long)]
        token_account: String,
    },
    /// Propose one change; the deposit comes from --token-account.
    Propose(ProposeArgs),
    /// Vote with your deposit and your nodes' stake.
    Vote {
        id: u64,
        choice: Choice,
        /// Node indices whose stake votes (default: all your nodes).
        #[arg(long, value_delimiter = ',')]
        nodes: Option<Vec<u16>>,
    },
    /// Count the votes of a proposal whose voting period is over.
    Finalize { id: u64 },
    /// Execute a passed proposal after its timelock.
    Execute { id: u64 },
    /// Withdraw your proposal before anyone voted (deposit back).
    Cancel {
        id: u64,
        #[arg(long)]
        token_account: String,
    },
    /// Close your ended proposal (deposit and rent back).
    Close {
        id: u64,
        #[arg(long)]
        token_account: String,
    },
    /// Every proposal, with its status and time left.
    List,
    /// One proposal: the change, tallies against quorum and threshold, time left.
    Show { id: u64 },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Choice {
    Yes,
    No,
    Abstain,
}

impl From<Choice> for VoteChoice {
    fn from(c: Choice) -> Self {
        match c {
            Choice::Yes => VoteChoice::Yes,
            Choice::No => VoteChoice::No,
            Choice::Abstain => VoteChoice::Abstain,
        }
    }
}

#[derive(Args)]
pub struct GovParamArgs {
    #[arg(long, default_value_t = 3 * 86_400)]
    pub voting_period_secs: u32,
    #[arg(long, default_value_t = 2 * 86_400)]
    pub timelock_secs: u32,
    #[arg(long, default_value_t = 7 * 86_400)]
    pub execution_window_secs: u32,
    /// Share of the total voting power that must vote (basis points).
    #[arg(long, default_value_t = 2_000)]
    pub quorum_bps: u16,
    /// Yes must be more than this share of yes + no (basis points).
    #[arg(long, default_value_t = 5_000)]
    pub pass_threshold_bps: u16,
    /// Tokens a proposer deposits (base units).
    #[arg(long, default_value_t = 100_000_000)]
    pub proposal_deposit: u64,
}

impl GovParamArgs {
    pub fn params(&self) -> GovParams {
        GovParams {
            voting_period_secs: self.voting_period_secs,
            timelock_secs: self.timelock_secs,
            execution_window_secs: self.execution_window_secs,
            quorum_bps: self.quorum_bps,
            pass_threshold_bps: self.pass_threshold_bps,
            proposal_deposit: self.proposal_deposit,
        }
    }
}

#[derive(Args)]
pub struct ProposeArgs {
    #[arg(long)]
    pub title: String,
    /// Pays the proposal deposit.
    #[arg(long)]
    pub token_account: String,
    /// Change network parameters: `--set slash_bps=8000 --set min_stake=5000000`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Change governance parameters: `--gov-set quorum_bps=3000`.
    #[arg(long = "gov-set", value_name = "NAME=VALUE")]
    pub gov_set: Vec<String>,
    /// Allow a kernel (name or id) for new jobs.
    #[arg(long)]
    pub allow_kernel: Option<String>,
    /// Disallow a kernel (name or id) for new jobs.
    #[arg(long)]
    pub disallow_kernel: Option<String>,
    /// Pause the posting of new jobs.
    #[arg(long)]
    pub pause: bool,
    /// Resume the posting of new jobs.
    #[arg(long)]
    pub unpause: bool,
    /// Treasury grant: the recipient token account (with --grant-amount).
    #[arg(long)]
    pub grant_to: Option<String>,
    #[arg(long)]
    pub grant_amount: Option<u64>,
}

fn split(assignment: &str) -> anyhow::Result<(&str, &str)> {
    assignment
        .split_once('=')
        .with_context(|| format!("`{assignment}` is not NAME=VALUE"))
}

fn num<T: std::str::FromStr>(name: &str, value: &str) -> anyhow::Result<Option<T>> {
    value
        .parse()
        .map(Some)
        .map_err(|_| anyhow::anyhow!("{name}: `{value}` is not a valid number"))
}

/// Parses `--set NAME=VALUE` assignments into parameter changes.
pub fn param_changes(assignments: &[String]) -> anyhow::Result<ParamChanges> {
    let mut c = ParamChanges::default();
    for a in assignments {
        let (name, v) = split(a)?;
        match name {
            "min_stake" => c.min_stake = num(name, v)?,
            "unstake_cooldown_secs" => c.unstake_cooldown_secs = num(name, v)?,
            "protocol_fee_bps" => c.protocol_fee_bps = num(name, v)?,
            "slash_bps" => c.slash_bps = num(name, v)?,
            "no_show_bps" => c.no_show_bps = num(name, v)?,
            "max_replicas" => c.max_replicas = num(name, v)?,
            "commit_window_secs" => c.commit_window_secs = num(name, v)?,
            "reveal_window_secs" => c.reveal_window_secs = num(name, v)?,
            "max_job_duration_secs" => c.max_job_duration_secs = num(name, v)?,
            "allowed_kernels" => c.allowed_kernels = num(name, v)?,
            "escalation_replicas" => c.escalation_replicas = num(name, v)?,
            "priority_window_secs" => c.priority_window_secs = num(name, v)?,
            "sortition_weight" => c.sortition_weight = num(name, v)?,
            "unavailable_comp_bps" => c.unavailable_comp_bps = num(name, v)?,
            "expiry_grace_secs" => c.expiry_grace_secs = num(name, v)?,
            "expiry_bounty_bps" => c.expiry_bounty_bps = num(name, v)?,
            "audit_bps" => c.audit_bps = num(name, v)?,
            "audit_replicas" => c.audit_replicas = num(name, v)?,
            "max_audited_reward" => c.max_audited_reward = num(name, v)?,
            "min_reward" => c.min_reward = num(name, v)?,
            "refereed_kernels" => c.refereed_kernels = num(name, v)?,
            "game_clock_secs" => c.game_clock_secs = num(name, v)?,
            "game_open_window_secs" => c.game_open_window_secs = num(name, v)?,
            "game_bond_lamports" => c.game_bond_lamports = num(name, v)?,
            "challenge_window_secs" => c.challenge_window_secs = num(name, v)?,
            "challenge_reward_bps" => c.challenge_reward_bps = num(name, v)?,
            other => bail!(
                "unknown network parameter `{other}` (see `tessera config show` for the names)"
            ),
        }
    }
    Ok(c)
}

/// Parses `--gov-set NAME=VALUE` assignments into governance parameter changes.
pub fn gov_param_changes(assignments: &[String]) -> anyhow::Result<GovParamChanges> {
    let mut c = GovParamChanges::default();
    for a in assignments {
        let (name, v) = split(a)?;
        match name {
            "voting_period_secs" => c.voting_period_secs = num(name, v)?,
            "timelock_secs" => c.timelock_secs = num(name, v)?,
            "execution_window_secs" => c.execution_window_secs = num(name, v)?,
            "quorum_bps" => c.quorum_bps = num(name, v)?,
            "pass_threshold_bps" => c.pass_threshold_bps = num(name, v)?,
            "proposal_deposit" => c.proposal_deposit = num(name, v)?,
            other => bail!("unknown governance parameter `{other}`: voting_period_secs, timelock_secs, execution_window_secs, quorum_bps, pass_threshold_bps, proposal_deposit"),
        }
    }
    Ok(c)
}

impl ProposeArgs {
    /// The one change this proposal makes.
    pub fn action(&self) -> anyhow::Result<ProposalAction> {
        let mut actions = Vec::new();
        if !self.set.is_empty() {
            actions.push(ProposalAction::UpdateParams(param_changes(&self.set)?));
        }
        if !self.gov_set.is_empty() {
            actions.push(ProposalAction::UpdateGovernance(gov_param_changes(
                &self.gov_set,
            )?));
        }
        if let Some(k) = &self.allow_kernel {
            actions.push(ProposalAction::SetKernel {
                kernel_id: kernel_id(k)?,
                allowed: true,
            });
        }
        if let Some(k) = &self.disallow_kernel {
            actions.push(ProposalAction::SetKernel {
                kernel_id: kernel_id(k)?,
                allowed: false,
            });
        }
        if self.pause {
            actions.push(ProposalAction::SetPaused(true));
        }
        if self.unpause {
            actions.push(ProposalAction::SetPaused(false));
        }
        match (&self.grant_to, self.grant_amount) {
            (Some(to), Some(amount)) => actions.push(ProposalAction::TreasuryGrant {
                recipient: pubkey("grant recipient", to)?,
                amount,
            }),
            (None, None) => {}
            _ => bail!("a treasury grant needs both --grant-to and --grant-amount"),
        }
        match actions.len() {
            1 => Ok(actions.remove(0)),
            0 => bail!("say what the proposal changes: --set, --gov-set, --allow-kernel, --disallow-kernel, --pause, --unpause or --grant-to/--grant-amount"),
            _ => bail!("a proposal makes one kind of change; create one proposal per kind"),
        }
    }
}

async fn governance<C: Chain>(chain: &C) -> anyhow::Result<Governance> {
    fetch::<Governance, _>(chain, &pda::governance().0)
        .await?
        .context("governance is not initialized on this network (`tessera gov init`)")
}

async fn proposal<C: Chain>(chain: &C, id: u64) -> anyhow::Result<Proposal> {
    fetch::<Proposal, _>(chain, &pda::proposal(id).0)
        .await?
        .with_context(|| format!("no proposal {id} (closed or cancelled, or never created)"))
}

/// Runs a `tessera gov` command, amounts in tokens.
pub async fn gov<C: Chain>(
    chain: &C,
    signer: SignerFn<'_>,
    command: GovCommand,
) -> anyhow::Result<()> {
    run(chain, signer, command, false).await
}

/// Runs a `tessera gov` command; `base_units` prints amounts in base units, not tokens.
pub async fn run<C: Chain>(
    chain: &C,
    signer: SignerFn<'_>,
    command: GovCommand,
    base_units: bool,
) -> anyhow::Result<()> {
    match command {
        GovCommand::Init(args) => {
            let signer = signer()?;
            let config = network(chain).await?;
            send(
                chain,
                &signer,
                ix::init_governance(&signer.pubkey(), &config.mint, args.params()),
                "init_governance",
            )
            .await?;
            println!(
                "governance {}  vault {}",
                pda::governance().0,
                pda::gov_vault().0
            );
            Ok(())
        }
        GovCommand::Handover { yes } => {
            if !yes {
                bail!("handing the network to governance cannot be undone; pass --yes to do it");
            }
            let signer = signer()?;
            governance(chain).await?;
            send(
                chain,
                &signer,
                ix::hand_over_authority(&signer.pubkey()),
                "hand_over_authority",
            )
            .await?;
            println!(
                "the network's authority is now governance ({})",
                pda::governance().0
            );
            Ok(())
        }
        GovCommand::Deposit {
            amount,
            token_account,
        } => {
            let signer = signer()?;
            let token = pubkey("token account", &token_account)?;
            send(
                chain,
                &signer,
                ix::gov_deposit(&signer.pubkey(), &token, amount),
                "gov_deposit",
            )
            .await
        }
        GovCommand::Withdraw {
            amount,
            token_account,
        } => {
            let signer = signer()?;
            let token = pubkey("token account", &token_account)?;
            if let Some(v) = fetch::<Voter, _>(chain, &pda::voter(&signer.pubkey()).0).await? {
                let now = chain.clock().await?.unix_timestamp;
                if now < v.vote_lock_until {
                    bail!(
                        "your deposit backs an open vote: it is locked for {} more",
                        duration(v.vote_lock_until - now)
                    );
                }
            }
            send(
                chain,
                &signer,
                ix::gov_withdraw(&signer.pubkey(), &token, amount),
                "gov_withdraw",
            )
            .await
        }
        GovCommand::Propose(args) => {
            let action = args.action()?;
            let signer = signer()?;
            let token = pubkey("token account", &args.token_account)?;
            let id = network(chain).await?.proposal_count;
            send(
                chain,
                &signer,
                ix::create_proposal(&signer.pubkey(), &token, id, &args.title, action),
                "create_proposal",
            )
            .await?;
            println!("proposal {id} ({})", pda::proposal(id).0);
            Ok(())
        }
        GovCommand::Vote { id, choice, nodes } => {
            let a = amounts(chain, base_units).await?;
            let signer = signer()?;
            let me = signer.pubkey();
            proposal(chain, id).await?;
            let with_deposit = fetch::<Voter, _>(chain, &pda::voter(&me).0)
                .await?
                .is_some();
            let max = tessera_sdk::tessera::constants::MAX_VOTE_NODES;
            let nodes = match nodes {
                Some(n) if n.len() > max => {
                    bail!("a vote counts at most {max} nodes; pass at most {max} to --nodes")
                }
                Some(n) => n,
                None => {
                    // The nodes with the most stake, up to what one vote counts.
                    let mut mine: Vec<Node> = list::<Node, _>(chain, &[])
                        .await?
                        .into_iter()
                        .map(|(_, n)| n)
                        .filter(|n| n.operator == me)
                        .collect();
                    mine.sort_by_key(|n| std::cmp::Reverse(n.stake.saturating_add(n.unstaking)));
                    if mine.len() > max {
                        println!(
                            "you run {} nodes; a vote counts at most {max}: voting with the {max} largest stakes",
                            mine.len()
                        );
                    }
                    mine.into_iter().take(max).map(|n| n.index).collect()
                }
            };
            if !with_deposit && nodes.is_empty() {
                bail!("you have no governance deposit and no node: nothing to vote with (`tessera gov deposit`)");
            }
            send(
                chain,
                &signer,
                ix::cast_vote(&me, id, choice.into(), with_deposit, &nodes),
                "cast_vote",
            )
            .await?;
            let record = fetch::<tessera_sdk::tessera::state::VoteRecord, _>(
                chain,
                &pda::vote_record(&pda::proposal(id).0, &me).0,
            )
            .await?
            .context("the vote record is missing after voting")?;
            println!(
                "voted {:?} with {} (deposit {}, stake {})",
                record.choice,
                a.show(record.deposit_power.saturating_add(record.stake_power)),
                a.show(record.deposit_power),
                a.show(record.stake_power)
            );
            Ok(())
        }
        GovCommand::Finalize { id } => {
            let signer = signer()?;
            send(
                chain,
                &signer,
                ix::finalize_proposal(id),
                "finalize_proposal",
            )
            .await?;
            let p = proposal(chain, id).await?;
            println!("{}", phase(&p, chain.clock().await?.unix_timestamp));
            Ok(())
        }
        GovCommand::Execute { id } => {
            let signer = signer()?;
            let p = proposal(chain, id).await?;
            send(
                chain,
                &signer,
                ix::execute_proposal(id, ix::grant_recipient(&p.action)),
                "execute_proposal",
            )
            .await
        }
        GovCommand::Cancel { id, token_account } => {
            let signer = signer()?;
            let token = pubkey("token account", &token_account)?;
            send(
                chain,
                &signer,
                ix::cancel_proposal(&signer.pubkey(), id, &token),
                "cancel_proposal",
            )
            .await
        }
        GovCommand::Close { id, token_account } => {
            let signer = signer()?;
            let token = pubkey("token account", &token_account)?;
            send(
                chain,
                &signer,
                ix::close_proposal(&signer.pubkey(), id, &token),
                "close_proposal",
            )
            .await
        }
        GovCommand::List => {
            let a = amounts(chain, base_units).await?;
            let now = chain.clock().await?.unix_timestamp;
            let mut proposals = list::<Proposal, _>(chain, &[]).await?;
            proposals.sort_by_key(|(_, p)| p.id);
            println!(
                "{:>4} {:<32} {:>14} {:>14} {:>14}  status",
                "id", "title", "yes", "no", "abstain"
            );
            for (_, p) in &proposals {
                println!(
                    "{:>4} {:<32} {:>14} {:>14} {:>14}  {}",
                    p.id,
                    p.title.chars().take(32).collect::<String>(),
                    a.show(p.yes),
                    a.show(p.no),
                    a.show(p.abstain),
                    phase(p, now)
                );
            }
            if let Ok(g) = governance(chain).await {
                println!(
                    "governance: voting {}, timelock {}, execution window {}, quorum {:.1}%, pass above {:.1}%, deposit {}",
                    duration(g.params.voting_period_secs.into()),
                    duration(g.params.timelock_secs.into()),
                    duration(g.params.execution_window_secs.into()),
                    f64::from(g.params.quorum_bps) / 100.0,
                    f64::from(g.params.pass_threshold_bps) / 100.0,
                    a.show(g.params.proposal_deposit)
                );
            }
            Ok(())
        }
        GovCommand::Show { id } => {
            let a = amounts(chain, base_units).await?;
            let p = proposal(chain, id).await?;
            let now = chain.clock().await?.unix_timestamp;
            print!("{}", describe_proposal(&p, now, &a));
            Ok(())
        }
    }
}
