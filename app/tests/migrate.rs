//! `tessera migrate` (and `localnet`) reuse an existing network only if it is theirs.
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_app::localnet;
use tessera_tests::TestEnv;

#[tokio::test]
async fn migrate_refuses_a_network_someone_else_initialized() {
    let env = TestEnv::new(); // initialized by env.authority
    let stranger = Keypair::new();
    let refused = localnet::migrate(&*env.chain, &stranger, &env.mint, env.params)
        .await
        .expect_err("someone else's network");
    let message = format!("{refused:#}");
    assert!(
        message.contains(&env.authority.pubkey().to_string())
            && message.contains("refusing to use it"),
        "{message}"
    );
    let config = localnet::migrate(&*env.chain, &env.authority, &env.mint, env.params)
        .await
        .expect("our own network");
    assert_eq!(config.authority, env.authority.pubkey());
}
