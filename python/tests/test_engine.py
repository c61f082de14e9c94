"""ballast.replay and ballast.Engine against `ballast replay` on the demo journal."""

import json

import pytest

import ballast


@pytest.fixture(scope="module")
def demo(repo):
    return repo / "examples" / "demo.jsonl"


def test_replay_hash_and_events_equal_the_cli(demo, cli):
    want = cli("replay", demo, "--json", json_out=True)
    h, events = ballast.replay(demo)
    assert h == want["state_hash"]
    assert events.num_rows == len(want["events"]) > 0
    assert events["line"].to_pylist() == [e["line"] for e in want["events"]]
    kinds = [json.loads(j)["event"] for j in events["json"].to_pylist()]
    assert events["event"].to_pylist() == kinds
    assert kinds == [e["event"]["event"] for e in want["events"]]
    meta = events.schema.metadata
    assert int(meta[b"applied"]) == want["applied"]
    assert [r[0] for r in json.loads(meta[b"rejected"])] == [r["line"] for r in want["rejected"]]


def test_replay_of_dicts_equals_replay_of_the_file(demo):
    lines = [json.loads(l) for l in demo.read_text().splitlines() if l.strip()]
    assert ballast.replay(lines)[0] == ballast.replay(demo)[0]


def test_engine_apply_matches_replay_and_a_reject_changes_nothing(demo):
    e = ballast.Engine()
    rejects = []
    for n, line in enumerate(demo.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        before = e.state_hash()
        try:
            events = e.apply(json.loads(line))
            assert isinstance(events, list)
        except ballast.BallastReject as r:
            assert e.state_hash() == before
            rejects.append((n, r))
    assert e.state_hash() == ballast.replay(demo)[0]
    assert [n for n, _ in rejects] == [27, 30, 33, 38]
    first = rejects[0][1]
    assert first.kind == "InsufficientMargin"
    assert first.fields["account"] == 1
    assert "initial margin" in first.message


def test_a_malformed_command_is_a_journal_error_naming_the_field():
    e = ballast.Engine()
    with pytest.raises(ballast.JournalError, match="symbl"):
        e.apply({"time": 0, "cmd": {"type": "create_asset", "role": "governor", "symbl": "X", "decimals": 6}})
    with pytest.raises(ballast.JournalError) as err:
        ballast.replay([{"time": 0, "cmd": {"type": "teleport"}}])
    assert err.value.line == 1
