"""Returns, advantages and minibatches of the rollout storage against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from algos.storage import RolloutStorage


def fill(st: RolloutStorage, rewards, terminated, truncated, bootstrap, values) -> None:
    for t in range(len(rewards)):
        st.add(torch.zeros(1, 1, 1, 1, dtype=torch.uint8), torch.zeros(1, dtype=torch.long),
               torch.tensor([values[t]]), torch.zeros(1), None, torch.ones(1))
        st.record(torch.tensor([rewards[t]]), torch.tensor([terminated[t]]),
                  torch.tensor([truncated[t]]), torch.tensor([bootstrap[t]]))


def test_monte_carlo_returns_terminate_truncate_and_cut():
    # steps 0-1: an episode that terminates with reward 1; steps 2-3: one cut by the time limit
    # (bootstrap V(final)=0.5); steps 4-5: one still running when collection stops (V(next)=2)
    g = 0.9
    st = RolloutStorage(8, 1, (1, 1, 1))
    fill(st, rewards=[0, 1, 0, 0, 0, 0.5], terminated=[0, 1, 0, 0, 0, 0],
         truncated=[0, 0, 0, 1, 0, 0], bootstrap=[0, 0, 0, 0.5, 0, 0], values=[0] * 6)
    st.compute_returns(torch.tensor([2.0]), g, None)
    expected = [g * 1, 1, g * g * 0.5, g * 0.5, g * (0.5 + g * 2), 0.5 + g * 2]
    assert st.returns[:6, 0].tolist() == pytest.approx(expected)


def test_gae_matches_hand_computation():
    g, lam = 0.9, 0.8
    values = [0.1, 0.2, 0.3]
    st = RolloutStorage(4, 1, (1, 1, 1))
    fill(st, rewards=[0, 1, 0], terminated=[0, 1, 0], truncated=[0, 0, 0],
         bootstrap=[0, 0, 0], values=values)
    last = 0.7
    st.compute_returns(torch.tensor([last]), g, lam)
    d2 = 0 + g * last - 0.3
    d1 = 1 - 0.2            # terminated: no bootstrap, and the trace stops
    d0 = 0 + g * 0.2 - 0.1
    adv = [d0 + g * lam * d1, d1, d2]
    expected = [a + v for a, v in zip(adv, values, strict=True)]
    assert st.returns[:3, 0].tolist() == pytest.approx(expected)


def test_advantages_are_normalised():
    st = RolloutStorage(8, 2, (1, 1, 1))
    for _t in range(5):
        st.add(torch.zeros(2, 1, 1, 1, dtype=torch.uint8), torch.zeros(2, dtype=torch.long),
               torch.rand(2), torch.zeros(2), None, torch.ones(2))
        st.record(torch.rand(2), torch.zeros(2), torch.zeros(2), torch.zeros(2))
    st.compute_returns(torch.zeros(2), 0.99, None)
    adv = st.advantages[:5]
    assert adv.mean().item() == pytest.approx(0, abs=1e-6)
    assert adv.std().item() == pytest.approx(1, abs=1e-4)


def test_minibatches_cover_every_step_once():
    st = RolloutStorage(10, 3, (1, 1, 1))
    for t in range(8):
        st.add(torch.zeros(3, 1, 1, 1, dtype=torch.uint8), torch.tensor([t * 3, t * 3 + 1, t * 3 + 2]),
               torch.zeros(3), torch.zeros(3), None, torch.ones(3))
        st.record(torch.zeros(3), torch.zeros(3), torch.zeros(3), torch.zeros(3))
    seen = torch.cat([mb.actions for mb in st.minibatches(5, torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(24))


def test_recurrent_minibatches_are_sequences_of_one_env():
    st = RolloutStorage(8, 2, (1, 1, 1), memory_size=4)
    for t in range(8):  # action encodes (t, env)
        st.add(torch.zeros(2, 1, 1, 1, dtype=torch.uint8), torch.tensor([10 * t, 10 * t + 1]),
               torch.zeros(2), torch.zeros(2), torch.full((2, 4), float(t)), torch.ones(2))
        st.record(torch.zeros(2), torch.zeros(2), torch.zeros(2), torch.zeros(2))
    for mb in st.minibatches(8, torch.Generator().manual_seed(0), recurrence=4):
        seqs = mb.memory.shape[0]
        steps = mb.actions.reshape(4, seqs)  # step-major: row k = step k of every sequence
        for s in range(seqs):
            col = steps[:, s].tolist()
            assert [a % 10 for a in col] == [col[0] % 10] * 4           # one env
            assert [a // 10 for a in col] == list(range(col[0] // 10, col[0] // 10 + 4))
            assert mb.memory[s, 0].item() == col[0] // 10                 # memory at its start
