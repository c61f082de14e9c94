//! Roles enforced by the engine (issue 11 part 2): after `seal_roles`, every command is signed
//! and checked against the registry; a command from the wrong principal is a typed
//! `Unauthorized` naming the principal, what was needed and the command, with the state hash
//! unchanged. Listings and role changes go through the timelock; the guardian vetoes and
//! pauses but never moves funds or changes a parameter; a sealed journal replays to the same
//! hash; an open (unsealed) engine keeps the label rules it always had.

mod common;
mod tally;
use ballast_engine::command::{Command, Envelope, Scope};
use ballast_engine::demo::{self, usdc, BTC, BTC_PERP, ETH, POOL};
use ballast_engine::ids::{AccountId, AssetId, OwnerId, PrincipalId, ProposalId};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::params::{MarketField, ParamKey};
use ballast_engine::roles::{self, Grant, Holder, Need, RoleError};
use ballast_engine::{Engine, Event, Reject, Role};
use common::{at, run, world};
use proptest::prelude::*;
use tally::Tally;

const GOV: PrincipalId = PrincipalId(1);
const GUARD: PrincipalId = PrincipalId(2);
const FEED: PrincipalId = PrincipalId(3);
const KEEPER: PrincipalId = PrincipalId(4);
const VENUE: PrincipalId = PrincipalId(5);
const ALICE: PrincipalId = PrincipalId(10); // owner#0: acct#0, acct#1
const BOB: PrincipalId = PrincipalId(11); // owner#1: acct#2, acct#3
const STRANGER: PrincipalId = PrincipalId(99); // not in the registry
const T: i64 = 1_000;

fn holders() -> Vec<Holder> {
    let h = |p, grants| Holder {
        principal: p,
        grants,
    };
    vec![
        h(GOV, vec![Grant::Governor]),
        h(GUARD, vec![Grant::Guardian]),
        h(
            FEED,
            vec![Grant::Oracle {
                assets: Some(vec![BTC]),
            }],
        ),
        h(KEEPER, vec![Grant::Keeper { owner: None }]),
        h(VENUE, vec![Grant::Venue]),
        h(ALICE, vec![Grant::Owner { owner: OwnerId(0) }]),
        h(BOB, vec![Grant::Owner { owner: OwnerId(1) }]),
    ]
}

fn signed(t: i64, by: Option<PrincipalId>, cmd: Command) -> Envelope {
    Envelope {
        time: Timestamp(t),
        by,
        cmd,
    }
}

fn init_margin_key() -> ParamKey {
    ParamKey::Market {
        market: BTC_PERP,
        field: MarketField::InitMargin,
    }
}

/// Genesis, four funded accounts (owners 0, 0, 1, 1), one pending proposal, then sealed.
fn sealed() -> Engine {
    let mut e = world(4);
    for a in 0..4 {
        run(
            &mut e,
            &[at(
                0,
                Command::Deposit {
                    account: AccountId(a),
                    asset: demo::USDC,
                    amount: usdc(100_000),
                },
            )],
        );
    }
    let v = e.param(&init_margin_key()).unwrap() + 1;
    run(
        &mut e,
        &[
            at(
                0,
                Command::Propose {
                    role: Role::Governor,
                    key: init_margin_key(),
                    value: v,
                },
            ),
            at(0, Command::SealRoles { holders: holders() }),
        ],
    );
    e
}

fn deposit(account: u32) -> Command {
    Command::Deposit {
        account: AccountId(account),
        asset: demo::USDC,
        amount: usdc(10),
    }
}

fn fill(taker: u32, maker: u32) -> Command {
    Command::Fill {
        market: BTC_PERP,
        taker: AccountId(taker),
        maker: AccountId(maker),
        size: Amount(100_000),
        price: 65_000.0,
    }
}

fn price(asset: AssetId) -> Command {
    Command::SetPrice {
        asset,
        price: if asset == BTC { 65_100.0 } else { 3_010.0 },
    }
}

fn list_sol() -> Command {
    Command::CreateAsset {
        role: Role::Governor,
        symbol: "SOL".into(),
        decimals: 9,
    }
}

/// Each command with the principals that may issue it; every one of these succeeds when
/// issued by an allowed principal.
fn table() -> Vec<(Command, Vec<PrincipalId>)> {
    let g = Role::Governor;
    let v = 100_000_001; // init margin 0.10 (scale 1e9) plus one raw unit
    vec![
        (price(BTC), vec![FEED]),
        (price(ETH), vec![]),
        (
            Command::ChainStatus {
                halted: false,
                congestion: 0.0,
            },
            vec![FEED],
        ),
        (deposit(0), vec![ALICE]),
        (deposit(3), vec![BOB]),
        (
            Command::Withdraw {
                account: AccountId(1),
                asset: demo::USDC,
                amount: usdc(1),
            },
            vec![ALICE],
        ),
        (
            Command::Transfer {
                from: AccountId(2),
                to: AccountId(3),
                asset: demo::USDC,
                amount: usdc(1),
            },
            vec![BOB],
        ),
        (
            Command::Borrow {
                account: AccountId(0),
                amount: usdc(1),
            },
            vec![ALICE],
        ),
        (fill(0, 2), vec![VENUE]),
        (fill(0, 1), vec![VENUE, ALICE]),
        (
            Command::OpenAccount {
                owner: OwnerId(1),
                pool: POOL,
            },
            vec![BOB],
        ),
        (Command::SettleFunding { market: BTC_PERP }, vec![KEEPER]),
        (
            Command::Pause {
                role: Role::Guardian,
                scope: Scope::Global,
            },
            vec![GUARD],
        ),
        (
            Command::Pause {
                role: g,
                scope: Scope::Market(BTC_PERP),
            },
            vec![GOV],
        ),
        (
            Command::Unpause {
                role: g,
                scope: Scope::Global,
            },
            vec![GOV],
        ),
        (
            Command::Cancel {
                role: Role::Guardian,
                proposal: ProposalId(0),
            },
            vec![GUARD],
        ),
        (
            Command::Cancel {
                role: g,
                proposal: ProposalId(0),
            },
            vec![GOV],
        ),
        (
            Command::Propose {
                role: g,
                key: init_margin_key(),
                value: v,
            },
            vec![GOV],
        ),
        (
            Command::ProposeCommand {
                role: g,
                command: Box::new(list_sol()),
            },
            vec![GOV],
        ),
        (
            Command::SetAuctionBreaker {
                role: Role::Guardian,
                pool: POOL,
                level: 1,
            },
            vec![GUARD],
        ),
        (
            Command::Shutdown {
                role: g,
                pool: POOL,
            },
            vec![GOV],
        ),
        // Listing and role changes: only through the timelock, so nobody directly.
        (list_sol(), vec![]),
        (
            Command::GrantRole {
                principal: STRANGER,
                grant: Grant::Governor,
            },
            vec![],
        ),
    ]
}

fn everyone() -> Vec<Option<PrincipalId>> {
    [GOV, GUARD, FEED, KEEPER, VENUE, ALICE, BOB, STRANGER]
        .into_iter()
        .map(Some)
        .chain([None])
        .collect()
}

#[test]
fn each_principal_is_accepted_exactly_where_permitted_and_a_refusal_changes_nothing() {
    let base = sealed();
    let hash = base.state_hash();
    let (mut accepted, mut refused) = (0, 0);
    for (cmd, allowed) in table() {
        for by in everyone() {
            let mut e = base.clone();
            let r = e.apply(&signed(T, by, cmd.clone()));
            let may = by.is_some_and(|p| allowed.contains(&p));
            match r {
                Ok(ev) => {
                    assert!(may, "{} by {by:?} was accepted: {ev:?}", cmd.kind());
                    assert_ne!(
                        e.state_hash(),
                        hash,
                        "an accepted command changes the state"
                    );
                    accepted += 1;
                }
                Err(Reject::Unauthorized {
                    principal, command, ..
                }) => {
                    assert!(!may, "{} by {by:?} was refused", cmd.kind());
                    assert_eq!((principal, command), (by, cmd.kind()));
                    assert_eq!(e.state_hash(), hash, "{} by {by:?}", cmd.kind());
                    refused += 1;
                }
                Err(other) => panic!("{} by {by:?}: {other}", cmd.kind()),
            }
        }
    }
    assert!(accepted >= 20 && refused >= 150, "{accepted} / {refused}");
}

#[test]
fn the_refusal_names_the_principal_what_it_needs_and_the_command() {
    let mut e = sealed();
    let hash = e.state_hash();
    let r = e.apply(&signed(T, Some(ALICE), deposit(2))).unwrap_err();
    assert_eq!(
        r,
        Reject::Unauthorized {
            principal: Some(ALICE),
            claimed: None,
            needs: Need::Accounts {
                first: AccountId(2),
                second: None,
                venue: false
            },
            command: "deposit",
        }
    );
    assert!(
        r.to_string().contains("principal#10 may not deposit"),
        "{r}"
    );
    let r = e.apply(&signed(T, Some(FEED), price(ETH))).unwrap_err();
    assert!(
        matches!(r, Reject::Unauthorized { needs: Need::Oracle { asset: Some(a) }, .. } if a == ETH),
        "{r:?}"
    );
    // A label the signer does not hold: the guardian claiming to be the governor.
    let r = e
        .apply(&signed(
            T,
            Some(GUARD),
            Command::Unpause {
                role: Role::Governor,
                scope: Scope::Global,
            },
        ))
        .unwrap_err();
    assert!(
        matches!(
            r,
            Reject::Unauthorized {
                principal: Some(GUARD),
                claimed: Some(Role::Governor),
                needs: Need::Governor,
                ..
            }
        ),
        "{r:?}"
    );
    // Unsigned after sealing.
    let r = e.apply(&signed(T, None, deposit(0))).unwrap_err();
    assert!(
        matches!(
            r,
            Reject::Unauthorized {
                principal: None,
                ..
            }
        ),
        "{r:?}"
    );
    assert_eq!(e.state_hash(), hash);
}

#[test]
fn the_guardian_never_moves_funds_or_changes_a_parameter() {
    let mut e = sealed();
    let hash = e.state_hash();
    let g = Role::Guardian;
    let key = init_margin_key();
    let v = e.param(&key).unwrap() + 1;
    for cmd in [
        deposit(0),
        Command::Withdraw {
            account: AccountId(0),
            asset: demo::USDC,
            amount: usdc(1),
        },
        fill(0, 2),
        Command::Propose {
            role: g,
            key,
            value: v,
        },
        Command::Execute {
            role: g,
            proposal: ProposalId(0),
        },
        Command::Unpause {
            role: g,
            scope: Scope::Global,
        },
        Command::Shutdown {
            role: g,
            pool: POOL,
        },
        Command::ProposeCommand {
            role: g,
            command: Box::new(list_sol()),
        },
    ] {
        let r = e.apply(&signed(T, Some(GUARD), cmd.clone())).unwrap_err();
        assert!(
            matches!(r, Reject::Unauthorized { .. }),
            "{}: {r}",
            cmd.kind()
        );
    }
    assert_eq!(e.state_hash(), hash);
    // What it may do: pause, and veto the queued proposal.
    let ev = e
        .apply(&signed(
            T,
            Some(GUARD),
            Command::Cancel {
                role: g,
                proposal: ProposalId(0),
            },
        ))
        .unwrap();
    assert_eq!(
        ev,
        vec![Event::ProposalCancelled {
            proposal: ProposalId(0)
        }]
    );
}

#[test]
fn after_sealing_a_listing_is_a_proposal_that_waits_for_the_timelock_and_can_be_vetoed() {
    let mut e = sealed();
    let tl = e.state().governance.timelock_ms;
    let n = e.state().assets.len();
    let r = e.apply(&signed(T, Some(GOV), list_sol())).unwrap_err();
    assert!(
        matches!(
            r,
            Reject::Unauthorized {
                needs: Need::Proposal,
                ..
            }
        ),
        "{r:?}"
    );
    let propose = |cmd: Command| Command::ProposeCommand {
        role: Role::Governor,
        command: Box::new(cmd),
    };
    let ev = e.apply(&signed(T, Some(GOV), propose(list_sol()))).unwrap();
    let Some(Event::CommandProposed { proposal, eta, .. }) = ev.first().cloned() else {
        panic!("{ev:?}")
    };
    assert_eq!(eta.0, T + tl);
    let exec = |p| Command::Execute {
        role: Role::Governor,
        proposal: p,
    };
    let r = e
        .apply(&signed(T + 1, Some(GOV), exec(proposal)))
        .unwrap_err();
    assert!(matches!(r, Reject::TimelockNotElapsed { .. }), "{r:?}");
    assert_eq!(
        e.state().assets.len(),
        n,
        "nothing listed before the timelock"
    );
    // A second listing, vetoed by the guardian, never runs.
    let ev = e
        .apply(&signed(
            T,
            Some(GOV),
            propose(Command::CreateMarket {
                role: Role::Governor,
                symbol: "ETH-PERP-2".into(),
                pool: POOL,
                base: ETH,
                params: demo::market_params(),
            }),
        ))
        .unwrap();
    let Some(Event::CommandProposed {
        proposal: vetoed, ..
    }) = ev.first().cloned()
    else {
        panic!("{ev:?}")
    };
    let cancel = Command::Cancel {
        role: Role::Guardian,
        proposal: vetoed,
    };
    e.apply(&signed(T + 2, Some(GUARD), cancel)).unwrap();
    let ev = e.apply(&signed(T + tl, Some(GOV), exec(proposal))).unwrap();
    assert!(
        matches!(ev.as_slice(), [Event::ProposalExecuted { .. }, Event::AssetCreated { symbol, .. }] if symbol == "SOL"),
        "{ev:?}"
    );
    assert_eq!(e.state().assets.len(), n + 1);
    let markets = e.state().markets.len();
    let r = e
        .apply(&signed(T + tl, Some(GOV), exec(vetoed)))
        .unwrap_err();
    assert_eq!(r, Reject::ProposalNotPending(vetoed));
    assert_eq!(e.state().markets.len(), markets);
    // Only listings, installs and role changes can be proposed; a bad listing is refused
    // when proposed, with its own reason.
    let r = e
        .apply(&signed(T + tl, Some(GOV), propose(deposit(0))))
        .unwrap_err();
    assert_eq!(r, Reject::NotProposable("deposit"));
    let r = e
        .apply(&signed(
            T + tl,
            Some(GOV),
            propose(Command::CreateAsset {
                role: Role::Governor,
                symbol: "X".into(),
                decimals: 40,
            }),
        ))
        .unwrap_err();
    assert_eq!(r, Reject::DecimalsTooLarge(40));
}

#[test]
fn the_registry_changes_only_through_governance() {
    let mut e = sealed();
    let tl = e.state().governance.timelock_ms;
    let eth_feeder = PrincipalId(20);
    let grant = Grant::Oracle {
        assets: Some(vec![ETH]),
    };
    let direct = Command::GrantRole {
        principal: eth_feeder,
        grant: grant.clone(),
    };
    let r = e.apply(&signed(T, Some(GOV), direct.clone())).unwrap_err();
    assert!(
        matches!(
            r,
            Reject::Unauthorized {
                needs: Need::Proposal,
                ..
            }
        ),
        "{r:?}"
    );
    let r = e
        .apply(&signed(T, None, Command::SealRoles { holders: holders() }))
        .unwrap_err();
    assert!(matches!(r, Reject::Unauthorized { .. }), "{r:?}");
    let r = e
        .apply(&signed(
            T,
            Some(GOV),
            Command::SealRoles { holders: holders() },
        ))
        .unwrap_err();
    assert_eq!(r, Reject::RolesAlreadySealed);
    let propose = |cmd: Command| Command::ProposeCommand {
        role: Role::Governor,
        command: Box::new(cmd),
    };
    let id = ProposalId(e.state().proposals.len() as u32);
    e.apply(&signed(T, Some(GOV), propose(direct))).unwrap();
    let r = e
        .apply(&signed(T, Some(eth_feeder), price(ETH)))
        .unwrap_err();
    assert!(matches!(r, Reject::Unauthorized { .. }), "not yet: {r:?}");
    let ev = e
        .apply(&signed(
            T + tl,
            Some(GOV),
            Command::Execute {
                role: Role::Governor,
                proposal: id,
            },
        ))
        .unwrap();
    assert!(ev.contains(&Event::RoleGranted {
        principal: eth_feeder,
        grant
    }));
    e.apply(&signed(T + tl, Some(eth_feeder), price(ETH)))
        .unwrap();
    // The last governor cannot be revoked: refused when proposed.
    let r = e
        .apply(&signed(
            T + tl,
            Some(GOV),
            propose(Command::RevokeRole {
                principal: GOV,
                grant: Grant::Governor,
            }),
        ))
        .unwrap_err();
    assert_eq!(r, Reject::InvalidRoles(RoleError::NoGovernor));
}

#[test]
fn sealing_checks_the_registry() {
    let mut e = world(0);
    let hash = e.state_hash();
    let no_gov = vec![Holder {
        principal: GUARD,
        grants: vec![Grant::Guardian],
    }];
    let r = e
        .apply(&at(0, Command::SealRoles { holders: no_gov }))
        .unwrap_err();
    assert_eq!(r, Reject::InvalidRoles(RoleError::NoGovernor));
    let mut twice = holders();
    twice.push(Holder {
        principal: GOV,
        grants: vec![Grant::Venue],
    });
    let r = e
        .apply(&at(0, Command::SealRoles { holders: twice }))
        .unwrap_err();
    assert_eq!(r, Reject::InvalidRoles(RoleError::DuplicatePrincipal(GOV)));
    // Grants before sealing: refused (seal first).
    let r = e
        .apply(&at(
            0,
            Command::ProposeCommand {
                role: Role::Governor,
                command: Box::new(Command::GrantRole {
                    principal: GOV,
                    grant: Grant::Governor,
                }),
            },
        ))
        .unwrap_err();
    assert_eq!(r, Reject::RolesOpen);
    assert_eq!(e.state_hash(), hash);
}

#[test]
fn an_open_engine_keeps_its_label_rules_and_its_hash() {
    let mut e = world(2);
    let json = serde_json::to_string(e.state()).unwrap();
    assert!(
        !json.contains("\"roles\""),
        "an open registry is not serialized"
    );
    let line = ballast_engine::journal::to_line(&at(0, deposit(0)));
    assert!(!line.contains("\"by\""), "{line}");
    let hash = e.state_hash();
    let r = e
        .apply(&at(
            0,
            Command::Propose {
                role: Role::Guardian,
                key: init_margin_key(),
                value: 100_000_001,
            },
        ))
        .unwrap_err();
    assert_eq!(
        r,
        Reject::Unauthorized {
            principal: None,
            claimed: Some(Role::Guardian),
            needs: Need::Governor,
            command: "propose",
        }
    );
    assert_eq!(e.state_hash(), hash);
    // Unlabeled commands are open, and a signature is not needed.
    e.apply(&at(0, deposit(0))).unwrap();
    e.apply(&at(0, list_sol())).unwrap();
}

#[test]
fn a_sealed_journal_replays_to_the_same_hash() {
    let mut journal = demo::genesis(0);
    for o in 0..2 {
        journal.push(at(
            0,
            Command::OpenAccount {
                owner: OwnerId(o),
                pool: POOL,
            },
        ));
    }
    journal.push(at(0, Command::SealRoles { holders: holders() }));
    let tl = ballast_engine::state::GovernanceConfig::default().timelock_ms;
    for (t, by, cmd) in [
        (1, ALICE, deposit(0)),
        (1, BOB, deposit(1)),
        (2, FEED, price(BTC)),
        (3, VENUE, fill(0, 1)),
        (
            4,
            GOV,
            Command::ProposeCommand {
                role: Role::Governor,
                command: Box::new(list_sol()),
            },
        ),
        (
            4 + tl,
            GOV,
            Command::Execute {
                role: Role::Governor,
                proposal: ProposalId(0),
            },
        ),
        (
            5 + tl,
            GOV,
            Command::Propose {
                role: Role::Governor,
                key: init_margin_key(),
                value: 100_000_001,
            },
        ),
    ] {
        journal.push(signed(t, Some(by), cmd));
    }
    let mut live = Engine::new();
    run(&mut live, &journal);
    let text = ballast_engine::journal::to_text(&journal);
    assert!(text.contains("\"by\":10"), "signatures are journaled");
    let parsed = ballast_engine::journal::parse(&text).unwrap();
    let mut again = Engine::new();
    let rep = ballast_engine::journal::replay(&mut again, &parsed, false);
    assert_eq!(rep.rejected.len(), 0, "{:?}", rep.rejected);
    assert_eq!(again.state_hash(), live.state_hash());
    // And from a snapshot of the sealed state.
    let snap: ballast_engine::state::State =
        serde_json::from_str(&serde_json::to_string(live.state()).unwrap()).unwrap();
    assert!(matches!(
        snap.proposals.as_slice(),
        [
            ballast_engine::state::Proposal {
                change: ballast_engine::state::Change::Command { .. },
                ..
            },
            ballast_engine::state::Proposal {
                change: ballast_engine::state::Change::Param { .. },
                ..
            }
        ]
    ));
    assert_eq!(Engine::from_state(snap).state_hash(), live.state_hash());
}

/// A small random command, over the sealed world's accounts and assets.
fn any_command() -> impl Strategy<Value = Command> {
    let acct = 0u32..5;
    let role = prop_oneof![Just(Role::Governor), Just(Role::Guardian)];
    prop_oneof![
        acct.clone().prop_map(deposit),
        (acct.clone(), acct.clone()).prop_map(|(a, b)| fill(a, b)),
        (acct.clone(), acct.clone()).prop_map(|(a, b)| Command::Transfer {
            from: AccountId(a),
            to: AccountId(b),
            asset: demo::USDC,
            amount: usdc(1),
        }),
        acct.clone().prop_map(|a| Command::Withdraw {
            account: AccountId(a),
            asset: demo::USDC,
            amount: usdc(1),
        }),
        (0u16..3).prop_map(|a| price(AssetId(a))),
        (0u32..2).prop_map(|o| Command::OpenAccount {
            owner: OwnerId(o),
            pool: POOL
        }),
        Just(Command::SettleFunding { market: BTC_PERP }),
        role.clone().prop_map(|role| Command::Pause {
            role,
            scope: Scope::Global
        }),
        role.clone().prop_map(|role| Command::Unpause {
            role,
            scope: Scope::Global
        }),
        (role.clone(), 0u32..3).prop_map(|(role, p)| Command::Cancel {
            role,
            proposal: ProposalId(p)
        }),
        (role.clone(), 0u32..3).prop_map(|(role, p)| Command::Execute {
            role,
            proposal: ProposalId(p)
        }),
        role.clone().prop_map(|role| Command::Propose {
            role,
            key: init_margin_key(),
            value: 100_000_001
        }),
        role.clone().prop_map(|role| Command::ProposeCommand {
            role,
            command: Box::new(list_sol())
        }),
        Just(list_sol()),
        acct.prop_map(|a| Command::Liquidate {
            liquidator: AccountId(a),
            account: AccountId(0),
            market: None,
            max_size: None
        }),
    ]
}

fn any_signer() -> impl Strategy<Value = Option<PrincipalId>> {
    prop::sample::select(everyone())
}

/// Random principals × random commands after sealing: the engine refuses exactly what the
/// permission matrix does not permit, and a refusal never changes the state.
#[test]
fn not_permitted_never_changes_state() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig { cases: 64, ..ProptestConfig::default() } }, |(steps in prop::collection::vec((any_signer(), any_command(), 0i64..5_000_000), 1..40))| {
        let mut e = sealed();
        let mut t = T;
        for (by, cmd, dt) in steps {
            t += dt;
            let before = e.state_hash();
            let st = e.state().clone();
            let permitted = by
                .and_then(|p| st.roles.grants_of(p))
                .is_some_and(|g| roles::check_grants(g, &cmd, &st).is_ok());
            match e.apply(&signed(t, by, cmd.clone())) {
                Ok(_) => {
                    tally.hit("accepted");
                    tally.hit_if(by == Some(GUARD), "accepted from the guardian");
                    tally.hit_if(matches!(by, Some(ALICE) | Some(BOB)), "accepted from a trader");
                    prop_assert!(permitted, "{} by {:?} accepted", cmd.kind(), by);
                    // Independently of the matrix: the guardian never moves funds or changes
                    // a parameter, and a trader never touches another owner's accounts.
                    let untouched = |owner: Option<OwnerId>| {
                        st.accounts.iter().zip(&e.state().accounts).all(|(a, b)| {
                            owner.is_some_and(|o| a.owner == o) || a == b
                        })
                    };
                    match by {
                        Some(GUARD) => {
                            prop_assert!(untouched(None), "guardian moved funds");
                            prop_assert_eq!(&st.markets[0].params, &e.state().markets[0].params);
                        }
                        Some(ALICE) => prop_assert!(untouched(Some(OwnerId(0))), "alice"),
                        Some(BOB) => prop_assert!(untouched(Some(OwnerId(1))), "bob"),
                        _ => {}
                    }
                }
                Err(r) => {
                    tally.hit(if matches!(r, Reject::Unauthorized { .. }) { "unauthorized" } else { "refused otherwise" });
                    prop_assert_eq!(
                        matches!(r, Reject::Unauthorized { .. }),
                        !permitted,
                        "{} by {:?}: {}", cmd.kind(), by, r
                    );
                    prop_assert_eq!(e.state_hash(), before);
                }
            }
        }
    });
    tally.check(
        "not_permitted_never_changes_state",
        &[
            ("accepted", 30),
            ("accepted from the guardian", 1),
            ("accepted from a trader", 10),
            ("unauthorized", 400),
            ("refused otherwise", 15),
        ],
    );
}
