//! Token arithmetic without 128-bit integers, which SBF emulates slowly.
use crate::constants::MAX_BPS;

/// `amount × bps / 10000`, rounded down, exactly and without overflow for any `amount` and
/// any `bps ≤ 10000` (larger `bps` saturate at `amount × bps / 10000` of the split below).
pub fn mul_bps(amount: u64, bps: u64) -> u64 {
    let unit = u64::from(MAX_BPS);
    (amount / unit)
        .saturating_mul(bps)
        .saturating_add(amount % unit * bps / unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_wide_formula() {
        let amounts = [
            0,
            1,
            9_999,
            10_000,
            10_001,
            123_456_789,
            u64::MAX / 3,
            u64::MAX,
        ];
        for amount in amounts {
            for bps in [0u64, 1, 250, 5_000, 9_999, 10_000, 20_000] {
                let wide = u128::from(amount) * u128::from(bps) / 10_000;
                assert_eq!(
                    u128::from(mul_bps(amount, bps)),
                    wide.min(u128::from(u64::MAX)),
                    "{amount} × {bps}"
                );
            }
        }
    }
}
