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


def test_advantages_are_returns_minus_values_normalised():
    # Monte-Carlo: one-step episodes, so returns = rewards; advantage = normalised(return - value)
    st = RolloutStorage(4, 1, (1, 1, 1))
    rewards, values = [1.0, 0.0, 0.5, 0.0], [0.2, 0.4, 0.0, -0.6]
    fill(st, rewards=rewards, terminated=[1] * 4, truncated=[0] * 4, bootstrap=[0] * 4,
         values=values)
    st.compute_returns(torch.zeros(1), 0.9, None)
    raw = torch.tensor(rewards) - torch.tensor(values)
    expected = (raw - raw.mean()) / raw.std()
    assert st.advantages[:4, 0].tolist() == pytest.approx(expected.tolist(), abs=1e-5)
    assert st.advantages[0, 0] > 0 > st.advantages[1, 0]  # better than expected: positive


def distinct_rollout(T: int, N: int, memory_size: int = 0) -> RolloutStorage:
    """Every field of step (t, env) holds a value derived from k = t * N + env (as the action)."""
    st = RolloutStorage(T, N, (1, 1, 1), memory_size=memory_size)
    for t in range(T):
        k = torch.arange(N) + t * N
        st.add((k % 251).to(torch.uint8).reshape(N, 1, 1, 1), k, values=k * 0.5,
               logprobs=-k.float(), memory=torch.stack([k.float()] * memory_size, 1)
               if memory_size else None, masks=(k % 2).float(), behaviour_logprobs=-2.0 * k,
               teacher_probs=torch.stack([k.float()] * 7, 1), teacher_values=k * 3.0)
        st.record(torch.zeros(N), torch.zeros(N), torch.zeros(N), torch.zeros(N))
    st.returns[:T] = torch.arange(T * N).reshape(T, N) * 0.25
    st.advantages[:T] = torch.arange(T * N).reshape(T, N) * -1.5
    return st


def assert_rows_aligned(mb) -> None:
    k = mb.actions
    assert torch.equal(mb.obs[:, 0, 0, 0].long(), k % 251)
    assert torch.equal(mb.values, k * 0.5) and torch.equal(mb.logprobs, -k.float())
    assert torch.equal(mb.returns, k * 0.25) and torch.equal(mb.advantages, k * -1.5)
    assert torch.equal(mb.masks, (k % 2).float())
    assert torch.equal(mb.behaviour_logprobs, -2.0 * k)
    assert torch.equal(mb.teacher_probs, torch.stack([k.float()] * 7, 1))
    assert torch.equal(mb.teacher_values, k * 3.0)


@pytest.mark.parametrize("recurrence", [1, 4])
def test_minibatch_rows_keep_every_field_of_their_step(recurrence: int):
    st = distinct_rollout(8, 3, memory_size=2 if recurrence > 1 else 0)
    for mb in st.minibatches(8, torch.Generator().manual_seed(0), recurrence):
        assert_rows_aligned(mb)


@pytest.mark.parametrize(("T", "N", "batch_size", "sizes"), [
    (36, 4, 64, [72, 72]),          # 144 / 64 = 2.25: two of 72, not 64 + 64 + 16
    (40, 4, 64, [80, 80]),          # 160 / 64 = 2.5: round half to even, 2 of 80
    (10, 3, 8, [8, 8, 7, 7]),       # 30 / 8 = 3.75: four of 7-8
    (5, 2, 32, [10]),               # fewer samples than a batch: one minibatch
    (32, 4, 128, [128]),            # exact
    (33, 4, 32, [33, 33, 33, 33]),  # 132 / 32 = 4.125
])
def test_an_epoch_is_nearly_equal_minibatches(T: int, N: int, batch_size: int, sizes: list[int]):
    st = distinct_rollout(T, N)
    batches = list(st.minibatches(batch_size, torch.Generator().manual_seed(0)))
    assert sorted(len(mb.actions) for mb in batches) == sorted(sizes)
    assert len(batches) == max(1, round(T * N / batch_size))
    seen = torch.cat([mb.actions for mb in batches])
    assert sorted(seen.tolist()) == list(range(T * N))  # every sample exactly once


@pytest.mark.parametrize(("T", "N", "batch_size", "seqs"), [
    (36, 4, 64, [18, 18]),          # 36 sequences of 4 steps: 144 / 64 -> 2 minibatches
    (12, 3, 8, [3, 2, 2, 2]),       # 9 sequences, 36 / 8 = 4.5 -> 4 minibatches of 2-3
    (8, 2, 64, [4]),
])
def test_recurrent_epochs_split_whole_sequences_nearly_equally(T: int, N: int, batch_size: int,
                                                               seqs: list[int]):
    st = distinct_rollout(T, N, memory_size=2)
    batches = list(st.minibatches(batch_size, torch.Generator().manual_seed(1), recurrence=4))
    assert sorted(mb.memory.shape[0] for mb in batches) == sorted(seqs)
    seen = []
    for mb in batches:
        s = mb.memory.shape[0]
        assert len(mb.actions) == 4 * s
        steps = mb.actions.reshape(4, s)  # step-major: row k = step k of every sequence
        for col in steps.T.tolist():
            assert col == [col[0] + N * i for i in range(4)]  # 4 consecutive steps of one env
            assert col[0] // N % 4 == 0                        # starting at a multiple of 4
        assert torch.equal(mb.memory[:, 0], steps[0].float())  # the memory at the start
        assert_rows_aligned(mb)
        seen += mb.actions.tolist()
    assert sorted(seen) == list(range(T * N))


def test_advantages_without_normalisation_are_returns_minus_values():
    st = RolloutStorage(4, 1, (1,))
    for r, v in ((0.0, 0.5), (0.0, 0.2), (1.0, 0.9)):
        st.add(torch.zeros(1, 1, dtype=torch.uint8), torch.zeros(1, dtype=torch.long),
               torch.tensor([v]), torch.zeros(1), None, torch.ones(1))
        st.record(torch.tensor([r]), torch.tensor([float(r > 0)]), torch.zeros(1),
                  torch.zeros(1))
    st.compute_returns(torch.zeros(1), 0.5, None, normalise=False)
    assert torch.allclose(st.returns[:3, 0], torch.tensor([0.25, 0.5, 1.0]))
    assert torch.allclose(st.advantages[:3, 0], torch.tensor([-0.25, 0.3, 0.1]))
