//! A job's input loaded on chain for its referee: a render step reads the whole scene (up to
//! 2,084 bytes), more than one transaction carries, so it is loaded in pieces, each proven
//! against the job's input root (`tessera_step::tree::verify_piece`) as it is written. Only
//! proven bytes are ever in the buffer.
use anchor_lang::prelude::*;
use tessera_step::tree;

use crate::constants::*;

#[account]
#[derive(InitSpace, Debug)]
pub struct InputBuffer {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA (`[INPUT_SEED, job]`).
    pub bump: u8,
    pub job: Pubkey,
    /// Who paid the rent; `close_input_buffer` returns it once the job is over.
    pub payer: Pubkey,
    /// Pieces (at [`tree::INPUT_PIECE_LEVEL`]) written and proven: bit `i` = piece `i`.
    pub loaded: u64,
    /// The input's bytes (zeros where no piece is loaded yet).
    #[max_len(MAX_INPUT_BUFFER_BYTES)]
    pub bytes: Vec<u8>,
}

impl InputBuffer {
    /// Account space for an input of `len` bytes.
    pub fn space(len: usize) -> usize {
        8 + 1 + 1 + 32 + 32 + 8 + 4 + len
    }

    /// Pieces of the input.
    pub fn pieces(&self) -> u64 {
        tree::width(self.bytes.len() as u64, tree::INPUT_PIECE_LEVEL)
    }

    /// Whether every piece is loaded: the bytes are the job's input.
    pub fn is_complete(&self) -> bool {
        let all = match self.pieces() {
            64.. => u64::MAX,
            n => (1u64 << n) - 1,
        };
        self.loaded == all
    }
}
