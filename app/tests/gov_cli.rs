//! `tessera gov`, run against the in-process bank through the SDK's `Chain` (the binary runs
//! the same functions over RPC): init, deposit, handover, propose, vote, finalize, execute,
//! list and show, and the errors a person sees.
use solana_keypair::Keypair;
use tessera_app::gov::{self, describe_proposal, phase, GovCommand, GovParamArgs, ProposeArgs};
use tessera_sdk::pda;
use tessera_sdk::tessera::state::ProposalStatus;
use tessera_tests::TestEnv;

fn copy(k: &Keypair) -> Keypair {
    Keypair::from_base58_string(&k.to_base58_string())
}

fn propose_args(token: String) -> ProposeArgs {
    ProposeArgs {
        title: "Slash wrong results at 70%".into(),
        token_account: token,
        set: vec![],
        gov_set: vec![],
        allow_kernel: None,
        disallow_kernel: None,
        pause: false,
        unpause: false,
        grant_to: None,
        grant_amount: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govern_the_network_with_the_cli() {
    let env = TestEnv::new();
    let chain = &*env.chain;
    let admin_key = copy(&env.authority);
    let admin = move || Ok(copy(&admin_key));
    let holder = env.actor();
    let holder_key = copy(&holder.wallet);
    let voter = move || Ok(copy(&holder_key));

    let params = GovParamArgs {
        voting_period_secs: 600,
        timelock_secs: 60,
        execution_window_secs: 3_600,
        quorum_bps: 2_000,
        pass_threshold_bps: 5_000,
        proposal_deposit: 1_000_000,
    };
    gov::gov(chain, &admin, GovCommand::Init(params))
        .await
        .unwrap();
    gov::gov(
        chain,
        &voter,
        GovCommand::Deposit {
            amount: 50_000_000,
            token_account: holder.token.to_string(),
        },
    )
    .await
    .unwrap();

    // Handing over asks for confirmation, then happens once.
    let err = gov::gov(chain, &admin, GovCommand::Handover { yes: false })
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("cannot be undone"), "{err:#}");
    gov::gov(chain, &admin, GovCommand::Handover { yes: true })
        .await
        .unwrap();
    assert_eq!(env.config().authority, pda::governance().0);

    // Proposals say what they change, one kind at a time, with known names.
    let token = holder.token.to_string();
    let err = gov::gov(
        chain,
        &voter,
        GovCommand::Propose(propose_args(token.clone())),
    )
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("say what the proposal changes"));
    let mut two = propose_args(token.clone());
    two.set = vec!["slash_bps=7000".into()];
    two.pause = true;
    let err = gov::gov(chain, &voter, GovCommand::Propose(two))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("one kind of change"));
    let mut unknown = propose_args(token.clone());
    unknown.set = vec!["slash_rate=7000".into()];
    let err = gov::gov(chain, &voter, GovCommand::Propose(unknown))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("unknown network parameter `slash_rate`"));
    // Out of bounds: the program refuses it, by name.
    let mut wild = propose_args(token.clone());
    wild.set = vec!["slash_bps=0".into()];
    let err = gov::gov(chain, &voter, GovCommand::Propose(wild))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("SlashOutOfBounds"), "{err:#}");

    let mut args = propose_args(token.clone());
    args.set = vec!["slash_bps=7000".into()];
    gov::gov(chain, &voter, GovCommand::Propose(args))
        .await
        .unwrap();
    gov::gov(
        chain,
        &voter,
        GovCommand::Vote {
            id: 0,
            choice: gov::Choice::Yes,
            nodes: None,
        },
    )
    .await
    .unwrap();
    gov::gov(chain, &voter, GovCommand::List).await.unwrap();
    gov::gov(chain, &voter, GovCommand::Show { id: 0 })
        .await
        .unwrap();
    let p = env.proposal(0);
    let now = env.chain.get_clock().unix_timestamp;
    let shown = describe_proposal(
        &p,
        now,
        &tessera_app::spec::units::Amounts {
            decimals: 6,
            base_units: false,
        },
    );
    assert!(shown.contains("set slash_bps=7000"), "{shown}");
    assert!(
        shown.contains("yes 50  no 0  abstain 0  (1 voters)"),
        "{shown}"
    );
    assert!(shown.contains("voting, 10m 0s left"), "{shown}");
    assert!(shown.contains("quorum 20.0% = 10: reached"), "{shown}");

    // Its deposit is locked while the vote is open.
    let err = gov::gov(
        chain,
        &voter,
        GovCommand::Withdraw {
            amount: 1,
            token_account: token.clone(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("locked for 10m 0s more"),
        "{err:#}"
    );

    env.chain.advance_time(600);
    gov::gov(chain, &voter, GovCommand::Finalize { id: 0 })
        .await
        .unwrap();
    let p = env.proposal(0);
    assert_eq!(p.status, ProposalStatus::Passed);
    assert_eq!(
        phase(&p, env.chain.get_clock().unix_timestamp),
        "passed, executable in 1m 0s"
    );
    let err = gov::gov(chain, &voter, GovCommand::Execute { id: 0 })
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("TimelockNotElapsed"), "{err:#}");
    env.chain.advance_time(60);
    gov::gov(chain, &voter, GovCommand::Execute { id: 0 })
        .await
        .unwrap();
    assert_eq!(env.config().params.slash_bps, 7_000);
    assert_eq!(
        phase(&env.proposal(0), env.chain.get_clock().unix_timestamp),
        "executed"
    );
    gov::gov(
        chain,
        &voter,
        GovCommand::Close {
            id: 0,
            token_account: token.clone(),
        },
    )
    .await
    .unwrap();
    gov::gov(
        chain,
        &voter,
        GovCommand::Withdraw {
            amount: 50_000_000,
            token_account: token,
        },
    )
    .await
    .unwrap();
    assert_eq!(env.balance(&holder.token), tessera_tests::ACTOR_TOKENS);

    // Someone with nothing locked is told so before sending anything.
    let nobody = env.actor();
    let nobody_key = copy(&nobody.wallet);
    let nobody_signer = move || Ok(copy(&nobody_key));
    let mut args = propose_args(nobody.token.to_string());
    args.pause = true;
    gov::gov(chain, &nobody_signer, GovCommand::Propose(args))
        .await
        .unwrap();
    let err = gov::gov(
        chain,
        &nobody_signer,
        GovCommand::Vote {
            id: 1,
            choice: gov::Choice::No,
            nodes: None,
        },
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("nothing to vote with"),
        "{err:#}"
    );
}
