//! The shared test fixture: [`TestEnv`] boots an in-process bank with the Tessera program
//! (native or SBF, chosen by `TESSERA_PROGRAM_MODE`), creates the token mint, funds actors and
//! offers one helper per instruction. Every helper goes through `tessera-sdk`.

use std::collections::BTreeMap;
use std::path::Path;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera::error::TesseraError;
use tessera::instructions::{PostJobArgs, RegisterNodeArgs, UpdateNodeArgs};
use tessera::state::{
    AuditState, Config, GovParams, Governance, HardwareKind, HardwareProfile, InputRef, Job, Node,
    Params, Proposal, ProposalAction, Requirements, VoteChoice, VoteRecord, Voter,
};
use tessera_sdk::chain::{decode, type_filter, ChainError};
use tessera_sdk::in_process::{InProcessChain, ProgramMode, TxOutcome};
use tessera_sdk::verification::commitment;
use tessera_sdk::{instructions as ix, pda, token};

/// Lamports every actor starts with.
pub const ACTOR_LAMPORTS: u64 = 100_000_000_000;
/// Token base units every actor starts with (1,000 tokens of 6 decimals).
pub const ACTOR_TOKENS: u64 = 1_000_000_000;
pub const MINT_DECIMALS: u8 = 6;

/// Bit mask of the kernel ids 1..=5 (render, matmul_f32, matmul_i8, mlp_infer, train_step).
pub const DEFAULT_KERNELS: u32 = 0b11_1110;

/// A wallet with SOL and a token account of the network's mint.
pub struct Actor {
    pub wallet: Keypair,
    pub token: Pubkey,
}

impl Actor {
    pub fn key(&self) -> Pubkey {
        self.wallet.pubkey()
    }
}

pub struct TestEnv {
    /// Shared, so that off-chain components under test (workers) can hold the same bank.
    pub chain: std::sync::Arc<InProcessChain>,
    /// Network authority, mint authority and fee payer of set-up transactions.
    pub authority: Keypair,
    pub mint: Pubkey,
    pub params: Params,
}

/// Parameters the tests start from.
pub fn default_params() -> Params {
    Params {
        min_stake: 1_000_000,
        unstake_cooldown_secs: 86_400,
        protocol_fee_bps: 250,
        slash_bps: 5_000,
        no_show_bps: 1_000,
        max_replicas: 5,
        commit_window_secs: 600,
        reveal_window_secs: 600,
        max_job_duration_secs: 7 * 86_400,
        allowed_kernels: DEFAULT_KERNELS,
        escalation_replicas: 2,
        priority_window_secs: 60,
        // Every staked node wins the priority sortition; tests of the sortition raise it.
        sortition_weight: 1,
        unavailable_comp_bps: 2_000,
        expiry_grace_secs: 3_600,
        expiry_bounty_bps: 1_000,
        // 10% audits by 2 auditors; 1,000 × 5,000 × 1,000,000 ≥ 20,000 × 9,000 × 25,000.
        audit_bps: 1_000,
        audit_replicas: 2,
        max_audited_reward: 25_000,
        // The floor of a reward; the reputation-farming test raises it.
        min_reward: 1,
        // Votes decide disagreements unless a test turns the referee on (suite/games.rs).
        refereed_kernels: 0,
        game_clock_secs: 600,
        game_open_window_secs: 600,
        game_bond_lamports: 10_000_000,
        challenge_window_secs: 0,
        challenge_reward_bps: 5_000,
    }
}

/// Governance parameters the tests start from: ten minutes of voting, five of timelock, an
/// hour to execute, 20% quorum, simple majority, a 10-token deposit.
pub fn default_gov_params() -> GovParams {
    GovParams {
        voting_period_secs: 600,
        timelock_secs: 300,
        execution_window_secs: 3_600,
        quorum_bps: 2_000,
        pass_threshold_bps: 5_000,
        proposal_deposit: 10_000_000,
    }
}

/// Escrow of a job under [`default_params`]: replicas plus the two escalation replicas.
pub fn escrow_of(replicas: u8, reward: u64) -> u64 {
    (u64::from(replicas) + u64::from(default_params().escalation_replicas)) * reward
}

pub fn gpu_profile() -> HardwareProfile {
    HardwareProfile {
        kind: HardwareKind::Gpu,
        gpu_model: "NVIDIA H200".into(),
        vram_mib: 141 * 1024,
        compute_capability: 90,
        cpu_cores: 16,
    }
}

pub fn cpu_profile() -> HardwareProfile {
    HardwareProfile {
        kind: HardwareKind::CpuOnly,
        gpu_model: String::new(),
        vram_mib: 0,
        compute_capability: 0,
        cpu_cores: 2,
    }
}

pub fn node_args(index: u16) -> RegisterNodeArgs {
    RegisterNodeArgs {
        index,
        hardware: gpu_profile(),
        region: 3,
        min_price_per_unit: 10,
        endpoint: "https://node.example:8443".into(),
    }
}

pub fn update_args(node: &Node) -> UpdateNodeArgs {
    UpdateNodeArgs {
        hardware: node.hardware.clone(),
        region: node.region,
        min_price_per_unit: node.min_price_per_unit,
        endpoint: node.endpoint.clone(),
        accepting_jobs: node.accepting_jobs,
    }
}

impl TestEnv {
    /// A bank with the mint and an initialized network with [`default_params`].
    pub fn new() -> Self {
        let env = Self::boot();
        env.initialize(&env.authority, env.params)
            .expect("initialize the network");
        env
    }

    /// A bank with the program and the mint, network not yet initialized.
    pub fn boot() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Self::boot_with(ProgramMode::from_env(&root).expect("program mode"))
    }

    /// Like [`TestEnv::boot`], with the program loaded as `mode` says.
    pub fn boot_with(mode: ProgramMode) -> Self {
        let chain =
            std::sync::Arc::new(InProcessChain::new(mode).expect("boot the in-process bank"));
        let authority = Keypair::new();
        chain
            .airdrop(&authority.pubkey(), ACTOR_LAMPORTS)
            .expect("airdrop");
        // The deployer: only the program's upgrade authority may initialize the network.
        chain
            .set_upgrade_authority(&authority.pubkey())
            .expect("upgrade authority");
        let mint = Keypair::new();
        let rent = chain.rent_exempt_minimum(token::MINT_LEN);
        let ixs = token::create_mint(
            &authority.pubkey(),
            &mint.pubkey(),
            &authority.pubkey(),
            MINT_DECIMALS,
            rent,
        )
        .expect("mint instructions");
        chain
            .process(&ixs, &authority, &[&mint])
            .expect("create the mint");
        Self {
            chain,
            authority,
            mint: mint.pubkey(),
            params: default_params(),
        }
    }

    pub fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<TxOutcome, ChainError> {
        self.chain.process(instructions, payer, signers)
    }

    /// Sends one instruction signed (and paid) by `signer`.
    pub fn send_one(
        &self,
        instruction: Instruction,
        signer: &Keypair,
    ) -> Result<TxOutcome, ChainError> {
        self.send(&[instruction], signer, &[])
    }

    /// A new token account of `mint` owned by `owner`.
    pub fn token_account(&self, owner: &Pubkey, mint: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let rent = self.chain.rent_exempt_minimum(token::TOKEN_ACCOUNT_LEN);
        let ixs = token::create_token_account(
            &self.authority.pubkey(),
            &account.pubkey(),
            mint,
            owner,
            rent,
        )
        .expect("token account instructions");
        self.send(&ixs, &self.authority, &[&account])
            .expect("create token account");
        account.pubkey()
    }

    pub fn mint_to(&self, to: &Pubkey, amount: u64) {
        let ix = token::mint_to(&self.mint, to, &self.authority.pubkey(), amount).expect("mint_to");
        self.send_one(ix, &self.authority).expect("mint tokens");
    }

    /// A funded wallet with a token account holding `tokens`.
    pub fn actor_with(&self, tokens: u64) -> Actor {
        self.actor_from(Keypair::new(), tokens)
    }

    /// Like [`TestEnv::actor_with`] for a given wallet (deterministic keys, e.g. for
    /// compute-unit measurements, where PDA bump searches depend on the key).
    pub fn actor_from(&self, wallet: Keypair, tokens: u64) -> Actor {
        self.chain
            .airdrop(&wallet.pubkey(), ACTOR_LAMPORTS)
            .expect("airdrop");
        let token = self.token_account(&wallet.pubkey(), &self.mint);
        if tokens > 0 {
            self.mint_to(&token, tokens);
        }
        Actor { wallet, token }
    }

    pub fn actor(&self) -> Actor {
        self.actor_with(ACTOR_TOKENS)
    }

    /// A second mint, for substitution attacks.
    pub fn other_mint(&self) -> Pubkey {
        let mint = Keypair::new();
        let rent = self.chain.rent_exempt_minimum(token::MINT_LEN);
        let ixs = token::create_mint(
            &self.authority.pubkey(),
            &mint.pubkey(),
            &self.authority.pubkey(),
            MINT_DECIMALS,
            rent,
        )
        .expect("mint instructions");
        self.send(&ixs, &self.authority, &[&mint])
            .expect("create other mint");
        mint.pubkey()
    }

    // ---- reading state ----

    pub fn balance(&self, token_account: &Pubkey) -> u64 {
        let account = self
            .chain
            .get_account(token_account)
            .expect("token account exists");
        token::decode_token_account(&account.data)
            .expect("token account")
            .amount
    }

    pub fn mint_supply(&self) -> u64 {
        let account = self.chain.get_account(&self.mint).expect("mint exists");
        token::decode_mint(&account.data).expect("mint").supply
    }

    pub fn exists(&self, address: &Pubkey) -> bool {
        self.chain.get_account(address).is_some()
    }

    pub fn lamports(&self, address: &Pubkey) -> u64 {
        self.chain.get_account(address).map_or(0, |a| a.lamports)
    }

    pub fn read<T: AccountDeserialize>(&self, address: &Pubkey) -> T {
        let account = self
            .chain
            .get_account(address)
            .unwrap_or_else(|| panic!("account {address} does not exist"));
        decode(address, &account.data).expect("decode account")
    }

    pub fn config(&self) -> Config {
        self.read(&pda::config().0)
    }

    pub fn node(&self, operator: &Pubkey, index: u16) -> Node {
        self.read(&pda::node(operator, index).0)
    }

    pub fn job(&self, submitter: &Pubkey, nonce: u64) -> Job {
        self.read(&pda::job(submitter, nonce).0)
    }

    /// Every account of type `T` the program owns.
    pub fn all<T: AccountDeserialize + Discriminator>(&self) -> Vec<(Pubkey, T)> {
        self.chain
            .scan(&tessera::ID, &[type_filter::<T>()])
            .into_iter()
            .map(|(address, account)| (address, decode(&address, &account.data).expect("decode")))
            .collect()
    }

    /// Rewrites a program account in place. Only for states no instruction can reach yet
    /// (e.g. open assignments before claiming exists), to test the guards that depend on them.
    pub fn overwrite<T: anchor_lang::AccountSerialize>(&self, address: &Pubkey, value: &T) {
        let mut account = self.chain.get_account(address).expect("account exists");
        let mut data = Vec::with_capacity(account.data.len());
        value.try_serialize(&mut data).expect("serialize");
        account.data[..data.len()].copy_from_slice(&data);
        self.chain
            .set_account(address, account)
            .expect("set account");
    }

    /// The stake vault, the escrow vault and the treasury.
    pub fn vaults() -> [Pubkey; 3] {
        [
            pda::stake_vault().0,
            pda::escrow_vault().0,
            pda::treasury().0,
        ]
    }

    /// Balance of each of `accounts` and of the three vaults.
    pub fn balances(&self, accounts: impl IntoIterator<Item = Pubkey>) -> BTreeMap<Pubkey, u64> {
        accounts
            .into_iter()
            .chain(Self::vaults())
            .map(|a| (a, self.balance(&a)))
            .collect()
    }

    /// Asserts that the mint's supply is still `supply` and that `balances` hold all of it.
    #[track_caller]
    pub fn assert_conserved(&self, balances: &BTreeMap<Pubkey, u64>, supply: u64) {
        let total: u128 = balances.values().map(|b| u128::from(*b)).sum();
        assert_eq!(total, u128::from(supply), "tokens not conserved");
        assert_eq!(self.mint_supply(), supply, "supply changed");
    }

    pub fn stake_vault_balance(&self) -> u64 {
        self.balance(&pda::stake_vault().0)
    }

    pub fn escrow_vault_balance(&self) -> u64 {
        self.balance(&pda::escrow_vault().0)
    }

    // ---- one helper per instruction ----

    pub fn initialize(&self, authority: &Keypair, params: Params) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::initialize(&authority.pubkey(), &self.mint, params),
            authority,
        )
    }

    pub fn update_params(
        &self,
        authority: &Keypair,
        params: Params,
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(ix::update_params(&authority.pubkey(), params), authority)
    }

    pub fn register_node(
        &self,
        operator: &Actor,
        args: RegisterNodeArgs,
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(ix::register_node(&operator.key(), args), &operator.wallet)
    }

    pub fn update_node(
        &self,
        operator: &Actor,
        index: u16,
        args: UpdateNodeArgs,
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::update_node(&operator.key(), index, args),
            &operator.wallet,
        )
    }

    pub fn stake(
        &self,
        operator: &Actor,
        index: u16,
        amount: u64,
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::stake(&operator.key(), index, &operator.token, amount),
            &operator.wallet,
        )
    }

    pub fn request_unstake(
        &self,
        operator: &Actor,
        index: u16,
        amount: u64,
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::request_unstake(&operator.key(), index, amount),
            &operator.wallet,
        )
    }

    pub fn withdraw_stake(
        &self,
        operator: &Actor,
        index: u16,
        amount: u64,
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::withdraw_stake(&operator.key(), index, &operator.token, amount),
            &operator.wallet,
        )
    }

    pub fn close_node(&self, operator: &Actor, index: u16) -> Result<TxOutcome, ChainError> {
        self.send_one(ix::close_node(&operator.key(), index), &operator.wallet)
    }

    pub fn post_job(&self, submitter: &Actor, args: PostJobArgs) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::post_job(&submitter.key(), &submitter.token, args),
            &submitter.wallet,
        )
    }

    pub fn cancel_job(&self, submitter: &Actor, nonce: u64) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::cancel_job(&submitter.key(), nonce, &submitter.token),
            &submitter.wallet,
        )
    }

    pub fn withdraw_earnings(
        &self,
        operator: &Actor,
        index: u16,
        amount: u64,
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::withdraw_earnings(&operator.key(), index, &operator.token, amount),
            &operator.wallet,
        )
    }

    pub fn claim(
        &self,
        operator: &Actor,
        index: u16,
        job: &Pubkey,
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(ix::claim(&operator.key(), index, job), &operator.wallet)
    }

    /// Commits to `root` with `salt` for the operator's `index`-th node.
    pub fn commit(
        &self,
        operator: &Actor,
        index: u16,
        job: &Pubkey,
        root: [u8; 32],
        salt: [u8; 32],
    ) -> Result<TxOutcome, ChainError> {
        let node = pda::node(&operator.key(), index).0;
        self.commit_raw(operator, index, job, commitment(&root, &node, &salt))
    }

    pub fn commit_raw(
        &self,
        operator: &Actor,
        index: u16,
        job: &Pubkey,
        commitment: [u8; 32],
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::commit(&operator.key(), index, job, commitment),
            &operator.wallet,
        )
    }

    pub fn reveal(
        &self,
        operator: &Actor,
        index: u16,
        job: &Pubkey,
        root: [u8; 32],
        salt: [u8; 32],
    ) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::reveal(&operator.key(), index, job, root, salt),
            &operator.wallet,
        )
    }

    /// Settles `job` with its slot nodes as they are on chain; the authority pays the fee
    /// (anyone may crank).
    pub fn settle(&self, job: &Pubkey) -> Result<TxOutcome, ChainError> {
        let nodes = ix::slot_nodes(&self.read::<Job>(job));
        self.send_one(ix::settle(job, &nodes), &self.authority)
    }

    /// Expires `job` with `caller` cranking and collecting the bounty.
    pub fn expire_job(&self, job: &Pubkey, caller: &Actor) -> Result<TxOutcome, ChainError> {
        let nodes = ix::slot_nodes(&self.read::<Job>(job));
        self.send_one(ix::expire_job(job, &nodes, &caller.token), &caller.wallet)
    }

    /// Draws a spot-check job's audit; the authority pays the fee (anyone may crank).
    pub fn draw_audit(&self, job: &Pubkey) -> Result<TxOutcome, ChainError> {
        self.send_one(ix::draw_audit(job), &self.authority)
    }

    /// Draws `job`'s audit until it is decided: a first call whose audit slot has aged out
    /// forces the audit and re-arms the draw on a slot a few slots on, whose hash the next
    /// calls wait for (`AuditNotReady` until it is final).
    /// Returns the deciding call's outcome.
    pub fn draw_audit_until_drawn(&self, job: &Pubkey) -> TxOutcome {
        for _ in 0..8 {
            match self.draw_audit(job) {
                Ok(outcome) if self.read::<Job>(job).audit != AuditState::Pending => {
                    return outcome
                }
                Ok(_) => {}
                Err(e) if e.custom_code() == Some(u32::from(TesseraError::AuditNotReady)) => {}
                Err(e) => panic!("draw_audit: {e}"),
            }
            self.chain.advance_time(1);
        }
        panic!("the audit of {job} was not drawn within 8 tries");
    }

    /// Fills the SlotHashes sysvar with its 512 entries, all for slots later than `after`
    /// and before the current slot (which moves on 750 slots first): `after` has aged out.
    pub fn age_out_slot(&self, after: u64) {
        self.chain.advance_time(300);
        let current = self.chain.get_clock().slot;
        assert!(current > after + 513, "the clock moved far enough");
        let entries: Vec<(u64, [u8; 32])> = (1..=512u64)
            .map(|back| (current - back, [back as u8; 32]))
            .collect();
        self.chain.set_slot_hashes(&entries);
    }

    pub fn close_job(&self, submitter: &Actor, nonce: u64) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::close_job(&submitter.key(), nonce, &submitter.token),
            &submitter.wallet,
        )
    }

    // ---- governance ----

    pub fn init_governance(&self, params: GovParams) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::init_governance(&self.authority.pubkey(), &self.mint, params),
            &self.authority,
        )
    }

    pub fn hand_over(&self) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::hand_over_authority(&self.authority.pubkey()),
            &self.authority,
        )
    }

    pub fn gov_deposit(&self, owner: &Actor, amount: u64) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::gov_deposit(&owner.key(), &owner.token, amount),
            &owner.wallet,
        )
    }

    pub fn gov_withdraw(&self, owner: &Actor, amount: u64) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::gov_withdraw(&owner.key(), &owner.token, amount),
            &owner.wallet,
        )
    }

    /// Creates the next proposal; returns its id.
    pub fn propose(
        &self,
        proposer: &Actor,
        title: &str,
        action: ProposalAction,
    ) -> Result<u64, ChainError> {
        let id = self.config().proposal_count;
        self.send_one(
            ix::create_proposal(&proposer.key(), &proposer.token, id, title, action),
            &proposer.wallet,
        )?;
        Ok(id)
    }

    /// `voter` votes on proposal `id` with its deposit (if it has a voter account) and its
    /// nodes `nodes`.
    pub fn vote(
        &self,
        voter: &Actor,
        id: u64,
        choice: VoteChoice,
        nodes: &[u16],
    ) -> Result<TxOutcome, ChainError> {
        let with_deposit = self.exists(&pda::voter(&voter.key()).0);
        self.send_one(
            ix::cast_vote(&voter.key(), id, choice, with_deposit, nodes),
            &voter.wallet,
        )
    }

    pub fn finalize(&self, id: u64) -> Result<TxOutcome, ChainError> {
        self.send_one(ix::finalize_proposal(id), &self.authority)
    }

    pub fn execute(&self, id: u64) -> Result<TxOutcome, ChainError> {
        let action = self.proposal(id).action;
        self.send_one(
            ix::execute_proposal(id, ix::grant_recipient(&action)),
            &self.authority,
        )
    }

    pub fn cancel_proposal(&self, proposer: &Actor, id: u64) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::cancel_proposal(&proposer.key(), id, &proposer.token),
            &proposer.wallet,
        )
    }

    pub fn close_proposal(&self, proposer: &Actor, id: u64) -> Result<TxOutcome, ChainError> {
        self.send_one(
            ix::close_proposal(&proposer.key(), id, &proposer.token),
            &proposer.wallet,
        )
    }

    pub fn governance(&self) -> Governance {
        self.read(&pda::governance().0)
    }

    pub fn proposal(&self, id: u64) -> Proposal {
        self.read(&pda::proposal(id).0)
    }

    pub fn voter(&self, owner: &Pubkey) -> Voter {
        self.read(&pda::voter(owner).0)
    }

    pub fn vote_record(&self, id: u64, voter: &Pubkey) -> VoteRecord {
        self.read(&pda::vote_record(&pda::proposal(id).0, voter).0)
    }

    pub fn gov_vault_balance(&self) -> u64 {
        self.balance(&pda::gov_vault().0)
    }

    pub fn treasury_balance(&self) -> u64 {
        self.balance(&pda::treasury().0)
    }

    /// A registered node (index 0) with `stake` staked.
    pub fn staked_operator(&self, stake: u64) -> Actor {
        let operator = self.actor();
        self.register_node(&operator, node_args(0))
            .expect("register node");
        if stake > 0 {
            self.stake(&operator, 0, stake).expect("stake");
        }
        operator
    }

    /// Valid job arguments: `replicas` × `reward`, deadline one day out.
    pub fn job_args(&self, nonce: u64, replicas: u8, reward: u64) -> PostJobArgs {
        let now = self.chain.get_clock().unix_timestamp;
        PostJobArgs {
            nonce,
            kernel_id: 2,
            input: InputRef {
                hash: [7; 32],
                uri: "https://inputs.example/matrices/a.bin".into(),
                size_bytes: 1 << 20,
            },
            kernel_params: vec![0, 1, 0, 0, 0, 1, 0, 0],
            work_units: 1_000,
            replicas,
            reward_per_replica: reward,
            deadline: now + 86_400,
            requirements: Requirements {
                gpu_required: true,
                min_vram_mib: 8_192,
                region_mask: u32::MAX,
            },
            spot_check: false,
        }
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

/// Replaces every occurrence of account `from` in `instruction` with `to` (substitution
/// attacks), panicking if `from` is not there so a test cannot silently attack nothing.
pub fn substitute(mut instruction: Instruction, from: &Pubkey, to: &Pubkey) -> Instruction {
    let mut found = false;
    for meta in &mut instruction.accounts {
        if meta.pubkey == *from {
            meta.pubkey = *to;
            found = true;
        }
    }
    assert!(found, "{from} is not an account of the instruction");
    instruction
}

/// Marks `account` as not signing (missing-signature attacks).
pub fn unsign(mut instruction: Instruction, account: &Pubkey) -> Instruction {
    let meta = instruction
        .accounts
        .iter_mut()
        .find(|m| m.pubkey == *account)
        .expect("account in instruction");
    assert!(meta.is_signer, "{account} was not a signer");
    meta.is_signer = false;
    instruction
}

/// Asserts that `result` failed with program error `expected`.
#[track_caller]
pub fn assert_tessera_error<T: std::fmt::Debug>(
    result: Result<T, ChainError>,
    expected: TesseraError,
) {
    assert_custom_code(result, u32::from(expected), &format!("{expected:?}"));
}

/// Asserts that `result` failed with Anchor framework error `expected`.
#[track_caller]
pub fn assert_anchor_error<T: std::fmt::Debug>(
    result: Result<T, ChainError>,
    expected: anchor_lang::error::ErrorCode,
) {
    assert_custom_code(result, u32::from(expected), &format!("{expected:?}"));
}

#[track_caller]
pub fn assert_custom_code<T: std::fmt::Debug>(
    result: Result<T, ChainError>,
    code: u32,
    name: &str,
) {
    match result {
        Ok(v) => panic!("expected error {name} ({code}), but the transaction succeeded: {v:?}"),
        Err(err) => assert_eq!(
            err.custom_code(),
            Some(code),
            "expected error {name} ({code}), got: {err}"
        ),
    }
}
