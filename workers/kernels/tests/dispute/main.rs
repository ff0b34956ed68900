//! Whole dispute games played off chain between an honest side and liars, with the rules of
//! `tessera_step::game` checking every move as the program will: the honest side wins every
//! game, whatever the liar corrupted and however deep, in a number of moves logarithmic in
//! the output size and the trace length; and a move that does not open what it claims loses.
use tessera_kernels::backend::Cpu;
use tessera_kernels::dispute::{referee_step, Side};
use tessera_kernels::kernels::MatmulParams;
use tessera_kernels::merkle::{self, Sha2};
use tessera_kernels::random::fresh_seed;
use tessera_kernels::{Backend, Job};
use tessera_step::game::{self, state_hash};
use tessera_step::tree::{self, Hash};

/// A side as the referee sees it: its moves, and whether it plays by the rules.
trait Player {
    fn top(&self) -> Hash;
    fn descent(&self, level: u32, index: u64) -> Vec<Hash>;
    fn cell(&self, index: u64) -> Vec<u8>;
    fn bisection(&self, element: u64, lo: u64, hi: u64) -> Vec<Hash>;
    fn state(&self, element: u64, position: u64) -> Vec<u8>;
}

impl Player for Side<'_> {
    fn top(&self) -> Hash {
        Side::top(self)
    }
    fn descent(&self, level: u32, index: u64) -> Vec<Hash> {
        Side::descent(self, level, index).unwrap()
    }
    fn cell(&self, index: u64) -> Vec<u8> {
        Side::cell(self, index).unwrap()
    }
    fn bisection(&self, element: u64, lo: u64, hi: u64) -> Vec<Hash> {
        Side::bisection(self, element, lo, hi).unwrap()
    }
    fn state(&self, element: u64, position: u64) -> Vec<u8> {
        Side::state(self, element, position).unwrap()
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    AWins,
    BWins,
    BothLose,
}

#[derive(Debug)]
struct Played {
    verdict: Verdict,
    /// Moves per side (descent, cell, bisection; the last step is one more transaction).
    moves: u32,
    /// The largest move, in bytes.
    largest: usize,
}

/// The referee: plays a game between `a` and `b`, whose roots differ, as the program will.
fn referee(job: &Job, input: &[u8], a: &dyn Player, b: &dyn Player) -> Played {
    let len = job.output_len() as u64;
    let (input_root, input_len) = (merkle::root(input), input.len() as u64);
    let mut moves = 0;
    let mut largest = 0;
    // Descent.
    let (mut level, mut index) = (game::height(len), 0u64);
    let (mut node_a, mut node_b) = (a.top(), b.top());
    assert_ne!(node_a, node_b, "a game needs two different roots");
    while level > 0 {
        let (hs_a, hs_b) = (a.descent(level, index), b.descent(level, index));
        moves += 1;
        largest = largest.max(32 * hs_a.len());
        let ok_a = game::verify_descent::<Sha2>(len, level, index, &node_a, &hs_a);
        let ok_b = game::verify_descent::<Sha2>(len, level, index, &node_b, &hs_b);
        match (ok_a, ok_b) {
            (true, true) => {}
            (true, false) => {
                return Played {
                    verdict: Verdict::AWins,
                    moves,
                    largest,
                }
            }
            (false, true) => {
                return Played {
                    verdict: Verdict::BWins,
                    moves,
                    largest,
                }
            }
            (false, false) => {
                return Played {
                    verdict: Verdict::BothLose,
                    moves,
                    largest,
                }
            }
        }
        let j =
            game::first_difference(&hs_a, &hs_b).expect("different nodes have a differing child");
        let (target, first, _) = game::descendants(len, level, index).unwrap();
        (level, index) = (target, first + j as u64);
        (node_a, node_b) = (hs_a[j], hs_b[j]);
    }
    let (cell_a, cell_b) = (a.cell(index), b.cell(index));
    moves += 1;
    assert_eq!(tree::leaf::<Sha2>(&cell_a), node_a);
    assert_eq!(tree::leaf::<Sha2>(&cell_b), node_b);
    let element = game::differing_element(index, &cell_a, &cell_b).expect("different cells");
    let within = (element as usize * game::ELEMENT) % tree::CELL;
    let end_a = state_hash::<Sha2>(&cell_a[within..within + game::ELEMENT]);
    let end_b = state_hash::<Sha2>(&cell_b[within..within + game::ELEMENT]);
    // Bisection: the start state is the kernel's (0 for a dot product), the end the elements.
    let honest = Side {
        job,
        input,
        output: &[],
    };
    let (mut lo, mut hi) = (0u64, honest.trace_len(element).unwrap());
    let (mut at_hi_a, mut at_hi_b) = (end_a, end_b);
    while hi - lo > 1 {
        let (points, count) = game::points(lo, hi);
        let (hs_a, hs_b) = (a.bisection(element, lo, hi), b.bisection(element, lo, hi));
        moves += 1;
        largest = largest.max(32 * count);
        assert_eq!(hs_a.len(), count);
        let (new_lo, new_hi) =
            game::select(lo, hi, &points[..count], &hs_a, &hs_b).expect("a well-formed move");
        if new_hi != hi {
            let j = points[..count].iter().position(|p| *p == new_hi).unwrap();
            (at_hi_a, at_hi_b) = (hs_a[j], hs_b[j]);
        }
        (lo, hi) = (new_lo, new_hi);
    }
    // The step: anyone posts the agreed state and the operands; the referee executes it.
    let start = if lo == 0 {
        // The kernel's start state, which the referee knows from the job.
        match job {
            Job::Render(_) => tessera_step::render::PixelState::start().encode().to_vec(),
            _ => vec![0u8; 4],
        }
    } else {
        // Both sides posted this state's hash; side a's bytes must match it.
        a.state(element, lo)
    };
    let mut witness = honest.witness(element, lo).unwrap();
    witness.state = start;
    let next =
        referee_step(job, &input_root, input_len, element, lo, &witness).expect("a valid step");
    let truth = state_hash::<Sha2>(&next);
    let verdict = match (at_hi_a == truth, at_hi_b == truth) {
        (true, false) => Verdict::AWins,
        (false, true) => Verdict::BWins,
        (false, false) => Verdict::BothLose,
        (true, true) => unreachable!("the sides differ at hi"),
    };
    Played {
        verdict,
        moves: moves + 1,
        largest,
    }
}

/// A liar that computed honestly up to `from` steps of `element`'s trace and then added
/// `delta` to the state (a wrong operand, a flipped bit): its trace and output agree with the
/// truth before, and differ after.
struct Liar<'a> {
    side: Side<'a>,
    output: Vec<u8>,
    element: u64,
    from: u64,
}

impl<'a> Liar<'a> {
    fn new(job: &'a Job, input: &'a [u8], honest: &[u8], element: u64, from: u64) -> Self {
        let mut liar = Liar {
            side: Side {
                job,
                input,
                output: &[],
            },
            output: honest.to_vec(),
            element,
            from,
        };
        let k = liar.side.trace_len(element).unwrap();
        let last = liar.state(element, k);
        let at = element as usize * 4;
        liar.output[at..at + 4].copy_from_slice(&last);
        liar
    }
    fn honest_side(&self) -> Side<'_> {
        Side {
            job: self.side.job,
            input: self.side.input,
            output: &self.output,
        }
    }
}

impl Player for Liar<'_> {
    fn top(&self) -> Hash {
        self.honest_side().top()
    }
    fn descent(&self, level: u32, index: u64) -> Vec<Hash> {
        self.honest_side().descent(level, index).unwrap()
    }
    fn cell(&self, index: u64) -> Vec<u8> {
        self.honest_side().cell(index).unwrap()
    }
    fn bisection(&self, element: u64, lo: u64, hi: u64) -> Vec<Hash> {
        let (points, count) = game::points(lo, hi);
        points[..count]
            .iter()
            .map(|p| state_hash::<Sha2>(&self.state(element, *p)))
            .collect()
    }
    fn state(&self, element: u64, position: u64) -> Vec<u8> {
        let truth = Side {
            job: self.side.job,
            input: self.side.input,
            output: &[],
        }
        .state(
            element,
            position.min(self.side.trace_len(element).unwrap() - 1),
        )
        .unwrap();
        let truth = if position == self.side.trace_len(element).unwrap() {
            // Recompute the honest final state from the trace, not from an output.
            let before = Side {
                job: self.side.job,
                input: self.side.input,
                output: &[],
            };
            let w = before.witness(element, position - 1).unwrap();
            let job = self.side.job;
            let root = merkle::root(self.side.input);
            referee_step(
                job,
                &root,
                self.side.input.len() as u64,
                element,
                position - 1,
                &w,
            )
            .unwrap()
        } else {
            truth
        };
        if element != self.element || position < self.from {
            return truth;
        }
        let mut bent = truth;
        bent[0] ^= 0x10;
        bent
    }
}

fn matmul(m: u32, n: u32, k: u32, i8: bool) -> Job {
    let p = MatmulParams { m, n, k };
    if i8 {
        Job::MatmulI8(p)
    } else {
        Job::MatmulF32(p)
    }
}

mod mlp;
mod single;
