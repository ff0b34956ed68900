//! Dispute games over `render` jobs on chain (issue 2/6, items 3–4; docs/disputes.md): the
//! game descends the tile's result tree to a pixel, bisects the pixel's trace (per sample a
//! camera ray, `max_depth` bounces and an accumulation, then the finish), and the referee
//! executes the one step — a bounce through the whole scene, read from the job's input buffer
//! where it was loaded piece by piece, each piece proven against the input root.
use tessera::error::TesseraError;
use tessera::state::{GameEnd, GamePhase, InputBuffer, JobEndReason, JobStatus, Verdict};
use tessera_kernels::dispute::Tree;
use tessera_kernels::kernels::RenderParams;
use tessera_kernels::merkle;
use tessera_sdk::in_process::ProgramMode;
use tessera_sdk::{instructions as ix, pda};
use tessera_step::render::{PixelStep, Tile};
use tessera_step::tree::INPUT_PIECE_LEVEL;
use tessera_tests::*;

use super::games::{receipts, Dispute, Honest, Liar, NET, STAKE};

/// A 40×30 tile (1,200 pixels, 4,800 bytes of output: two chunks) of a 64×48 image, two
/// samples of three bounces per pixel: traces of 11 steps.
fn tile() -> RenderParams {
    RenderParams {
        image_w: 64,
        image_h: 48,
        tile_x: 8,
        tile_y: 6,
        tile_w: 40,
        tile_h: 30,
        spp: 2,
        max_depth: 3,
        seed: 7,
    }
}

/// The largest scene a job may hold: 63 spheres and a ground plane (2,084 bytes, five pieces
/// of the input tree), so a bounce costs the referee the most it can.
fn largest_scene() -> Vec<u8> {
    let (spheres, planes) = (63u32, 1u32);
    let mut input = spheres.to_le_bytes().to_vec();
    input.extend_from_slice(&planes.to_le_bytes());
    let mut push = |x: f32| input.extend_from_slice(&x.to_le_bytes());
    for x in [0.0, 1.0, 3.0, 0.0, 0.5, -1.0, 0.6] {
        push(x);
    }
    for i in 0..spheres {
        let t = i as f32;
        let (cx, cy, cz) = (
            (t % 9.0) * 0.5 - 2.0,
            (t % 5.0) * 0.3 + 0.2,
            -(t % 7.0) * 0.4,
        );
        let material = if i % 3 == 0 { 1.0 } else { 0.0 };
        for x in [cx, cy, cz, 0.2, 0.8, 0.5, 0.3, material] {
            push(x);
        }
    }
    for x in [0.0, 1.0, 0.0, -0.5, 0.8, 0.8, 0.8, 0.0] {
        push(x);
    }
    assert_eq!(input.len(), tessera_step::render::MAX_SCENE_BYTES);
    input
}

fn render_dispute(env: TestEnv, scene: Vec<u8>) -> Dispute {
    Dispute::with_input(
        env,
        2,
        2,
        tessera_kernels::Job::Render(tile()),
        scene,
        |_| {},
    )
}

/// The first trace position whose step is `kind` (in sample `sample`).
fn position_of(kind: fn(PixelStep) -> bool, sample: u64) -> u64 {
    let tile = Tile::decode(&tessera_kernels::Job::Render(tile()).encode_params()).unwrap();
    let pixel = tile.pixel(0).unwrap();
    (0..tile.trace_len())
        .filter(|p| pixel.step_at(*p).is_some_and(kind))
        .nth(sample as usize)
        .expect("a step of that kind")
}

#[test]
fn a_render_liar_bent_deep_in_its_tile_loses_on_the_referees_bounce() {
    let d = render_dispute(
        TestEnv::boot_with(ProgramMode::Sbf(crate::compute_units::so_path())),
        largest_scene(),
    );
    // Pixel 1,100 lies in the output's second chunk; the liar bends its second sample's
    // second bounce: the game ends on that bounce through all 64 objects.
    let bounce = position_of(|s| s == PixelStep::Bounce, 4);
    let liar = Liar::new(d.truth(), 1_100, bounce + 1);
    let honest = Honest(d.truth());
    let good = merkle::root(&d.output);
    d.round(&[good, liar.root()]);
    d.settle().unwrap();
    d.open(0, [0, 1]).unwrap();
    let played = d.play([0, 1], [&honest, &liar]);
    assert_eq!(played.lost(), [false, true]);
    let game = played.game.as_ref().unwrap();
    assert!(matches!(
        game.phase,
        GamePhase::Ended {
            reason: GameEnd::Refereed,
            ..
        }
    ));
    // The scene was loaded once, in five proven pieces (and the buffer's opening).
    assert_eq!(played.input_transactions, 6);
    let buffer: InputBuffer = d.env.read(&pda::input_buffer(&d.job).0);
    assert!(buffer.is_complete());
    assert_eq!(buffer.bytes, d.input);
    println!(
        "render game: {} moves per side, {} transactions (open, input and step included), \
         largest {} bytes, moves ≤ {} CU, input loads ≤ {} CU, the bounce step {} CU",
        played.moves[0],
        played.transactions + 1 + played.input_transactions,
        played.largest_tx,
        played.move_cu,
        played.input_cu,
        played.step_cu
    );
    assert!(
        played.input_cu <= 50_000,
        "input loads {} CU",
        played.input_cu
    );
    assert!(played.largest_tx <= 1_232);
    assert!(played.move_cu <= 50_000, "moves {} CU", played.move_cu);
    assert!(played.step_cu <= 200_000, "the step {} CU", played.step_cu);

    let outcome = d.settle().unwrap();
    let job = d.read();
    assert_eq!(job.result_root, Some(good));
    assert!(matches!(
        job.status,
        JobStatus::Ended {
            reason: JobEndReason::Accepted,
            ..
        }
    ));
    let receipts = receipts(&outcome);
    assert_eq!(
        (receipts[0].verdict, receipts[0].paid),
        (Verdict::Agreed, NET)
    );
    assert!(receipts[1].lost_game);
    assert_eq!(d.env.node(&d.workers[1].key(), 0).stake, STAKE / 2);

    // The buffer's rent goes back to whoever paid it, once the job is over.
    let payer = d.workers[0].key();
    let (before, held) = (
        d.env.lamports(&payer),
        d.env.lamports(&pda::input_buffer(&d.job).0),
    );
    let cranker = d.env.actor();
    d.env
        .send_one(ix::close_input_buffer(&d.job, &payer), &cranker.wallet)
        .unwrap();
    assert_eq!(d.env.lamports(&payer), before + held);
}

#[test]
fn render_liars_lose_on_a_camera_ray_an_accumulation_and_the_finish() {
    let camera = position_of(|s| matches!(s, PixelStep::Camera(_)), 1);
    let accumulate = position_of(|s| s == PixelStep::Accumulate, 0);
    let finish = position_of(|s| s == PixelStep::Finish, 0);
    for (name, position, needs_scene) in [
        ("camera ray", camera, true),
        ("accumulation", accumulate, false),
        ("finish", finish, false),
    ] {
        let d = render_dispute(TestEnv::boot(), {
            let kernel = tessera_kernels::Job::Render(tile());
            kernel.random_input(0x5eed)
        });
        let liar = Liar::new(d.truth(), 1_199, position + 1);
        let honest = Honest(d.truth());
        d.round(&[liar.root(), merkle::root(&d.output)]);
        d.settle().unwrap();
        d.open(1, [0, 1]).unwrap();
        let played = d.play([0, 1], [&liar, &honest]);
        assert_eq!(played.lost(), [true, false], "{name}");
        // Only a step that reads the scene loads it.
        assert_eq!(played.input_transactions > 0, needs_scene, "{name}");
        assert_eq!(
            d.env.exists(&pda::input_buffer(&d.job).0),
            needs_scene,
            "{name}"
        );
    }
}

#[test]
fn the_input_buffer_refuses_its_attacks() {
    let d = render_dispute(TestEnv::boot(), largest_scene());
    let liar = Liar::new(
        d.truth(),
        600,
        position_of(|s| s == PixelStep::Bounce, 0) + 1,
    );
    d.round(&[merkle::root(&d.output), liar.root()]);
    let w = &d.workers[0];
    let open = || {
        d.env
            .send_one(ix::open_input_buffer(&w.key(), &d.job), &w.wallet)
    };
    // Nobody needs the scene before a dispute.
    assert_tessera_error(open(), TesseraError::InputNotNeeded);
    d.settle().unwrap();
    open().unwrap();
    assert!(open().is_err(), "one buffer per job");
    let pieces = Tree(&d.input).pieces(INPUT_PIECE_LEVEL).unwrap();
    assert_eq!(pieces.len(), 5);
    let load = |index: u32, bytes: Vec<u8>, siblings: Vec<[u8; 32]>| {
        d.env.send_one(
            ix::load_input_piece(&w.key(), &d.job, index, bytes, siblings),
            &w.wallet,
        )
    };
    // A bent byte, another piece's bytes, a bent sibling, an index past the end.
    let p = &pieces[2];
    let mut bent = p.bytes.clone();
    bent[7] ^= 1;
    assert_tessera_error(
        load(2, bent, p.siblings.clone()),
        TesseraError::BadInputPiece,
    );
    assert_tessera_error(
        load(2, pieces[1].bytes.clone(), p.siblings.clone()),
        TesseraError::BadInputPiece,
    );
    let mut siblings = p.siblings.clone();
    siblings[0][0] ^= 1;
    assert_tessera_error(
        load(2, p.bytes.clone(), siblings),
        TesseraError::BadInputPiece,
    );
    assert_tessera_error(
        load(5, p.bytes.clone(), p.siblings.clone()),
        TesseraError::BadInputPiece,
    );
    load(2, p.bytes.clone(), p.siblings.clone()).unwrap();
    // Replay.
    assert_tessera_error(
        load(2, p.bytes.clone(), p.siblings.clone()),
        TesseraError::PieceAlreadyLoaded,
    );
    let buffer: InputBuffer = d.env.read(&pda::input_buffer(&d.job).0);
    assert_eq!(buffer.loaded, 0b100);
    assert!(!buffer.is_complete());
    // The job is not over: the buffer stays; and only its payer gets the rent.
    let close = |to: &anchor_lang::prelude::Pubkey| {
        let payer = d.env.actor();
        d.env
            .send_one(ix::close_input_buffer(&d.job, to), &payer.wallet)
    };
    assert_tessera_error(close(&w.key()), TesseraError::JobNotEnded);
    assert_tessera_error(close(&d.workers[1].key()), TesseraError::Unauthorized);
}
