//! Decoding the program's events from transaction logs. Anchor's `emit!` writes each event as
//! a `Program data: <base64>` line: 8 discriminator bytes, then the Borsh-encoded event.
use anchor_lang::{AnchorDeserialize, Discriminator, Event};
use base64::Engine;

const PREFIX: &str = "Program data: ";

/// Every event of type `T` in `logs`, in order. Lines of other events are skipped.
pub fn decode<T: Event + AnchorDeserialize + Discriminator>(logs: &[String]) -> Vec<T> {
    logs.iter()
        .filter_map(|line| line.strip_prefix(PREFIX))
        .filter_map(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
        })
        .filter_map(|bytes| {
            let body = bytes.strip_prefix(T::DISCRIMINATOR)?;
            T::try_from_slice(body).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera::events::{NodeClosed, Staked};

    #[test]
    fn decodes_only_the_asked_type() {
        let staked = Staked {
            node: anchor_lang::prelude::Pubkey::new_unique(),
            amount: 5,
            stake: 9,
        };
        let line = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(staked.data())
        );
        let logs = vec![
            "Program log: Instruction: Stake".to_string(),
            line,
            format!("{PREFIX}not base64!"),
        ];
        let found = decode::<Staked>(&logs);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].node, found[0].amount, found[0].stake),
            (staked.node, 5, 9)
        );
        assert!(decode::<NodeClosed>(&logs).is_empty());
    }
}
