"""Rollout storage: preallocated [T, N, ...] tensors and one NamedTuple minibatch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import torch

ENCODE_CHUNK = 1024  # observations per encode call (the unfolded egocentric map is large)


class Minibatch(NamedTuple):
    obs: torch.Tensor        # (B, W, H, C) uint8, or the float network input (encode_observations)
    actions: torch.Tensor    # (B,)
    logprobs: torch.Tensor   # (B,) student log-prob of the action when it was collected
    values: torch.Tensor     # (B,) student value when collected
    returns: torch.Tensor    # (B,)
    advantages: torch.Tensor  # (B,) normalised
    memory: torch.Tensor | None  # (B, M) recurrent memory at the step (sequence starts only)
    masks: torch.Tensor | None   # (B,) 0 where an episode starts (memory is reset)
    behaviour_logprobs: torch.Tensor  # (B,) log-prob of the action under the policy that chose it
    teacher_probs: torch.Tensor       # (B, 7) the teacher's action distribution (zeros: no teacher)
    teacher_values: torch.Tensor      # (B,) the teacher critic's value when collected


class RolloutStorage:
    """Holds one iteration of experience from N envs; T (steps per env) varies per iteration.

    ``capacity`` is an upper bound on T, so nothing is allocated while collecting. Every tensor
    lives on ``device`` (the networks' device): collection writes each step there, returns,
    advantages and minibatches are computed there, and nothing comes back to the host.
    """

    def __init__(self, capacity: int, num_envs: int, obs_shape: tuple[int, ...],
                 memory_size: int = 0, device: torch.device | str = "cpu") -> None:
        t, n = capacity, num_envs
        self.capacity, self.num_envs = capacity, num_envs
        self.device = torch.device(device)

        def zeros(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros(shape, dtype=dtype, device=self.device)

        self.obs = zeros(t, n, *obs_shape, dtype=torch.uint8)
        self.actions = zeros(t, n, dtype=torch.long)
        self.rewards = zeros(t, n)
        self.terminated = zeros(t, n)   # the episode ended by the task (no bootstrap)
        self.truncated = zeros(t, n)    # the episode hit the time limit (bootstrap)
        self.bootstrap = zeros(t, n)    # V(final obs) where truncated
        self.values = zeros(t, n)
        self.logprobs = zeros(t, n)
        self.returns = zeros(t, n)
        self.advantages = zeros(t, n)
        self.memory = zeros(t, n, memory_size) if memory_size else None
        self.masks = torch.ones((t, n), device=self.device)
        # for the teacher-guided algorithms (ihac, llm4teach)
        self.next_obs = zeros(t, n, *obs_shape, dtype=torch.uint8)
        self.behaviour_logprobs = zeros(t, n)
        self.teacher_probs = zeros(t, n, 7)
        self.teacher_values = zeros(t, n)
        self.step = 0
        self._encoded: dict[str, torch.Tensor] = {}  # this rollout's network inputs, flat

    def reset(self) -> None:
        self.step = 0
        self._encoded = {}

    def encode_observations(self, encode: Callable[[torch.Tensor], torch.Tensor],
                            names: tuple[str, ...] = ("obs",)) -> None:
        """Turn this rollout's observations (``names``: "obs", "next_obs") into network inputs
        once, for every epoch of every network that reads them; the minibatches and
        ``input_rows`` then give float inputs, which the networks take as already encoded.
        The inputs are stored as uint8: every encoding is small whole numbers (codes, one-hot)."""
        for name in names:
            raw = self.flat(name)[name]
            self._encoded[name] = torch.cat([encode(chunk).to(torch.uint8)
                                             for chunk in raw.split(ENCODE_CHUNK)])

    def input_rows(self, name: str, idx: torch.Tensor) -> torch.Tensor:
        """Rows ``idx`` (flat, env-major) of "obs" or "next_obs": the float network input if
        encode_observations ran on this rollout, else the uint8 observations."""
        if name in self._encoded:
            return self._encoded[name][idx].float()
        return self.flat(name)[name][idx]

    def add(self, obs: torch.Tensor, actions: torch.Tensor, values: torch.Tensor,
            logprobs: torch.Tensor, memory: torch.Tensor | None, masks: torch.Tensor,
            behaviour_logprobs: torch.Tensor | None = None,
            teacher_probs: torch.Tensor | None = None,
            teacher_values: torch.Tensor | None = None) -> None:
        """Record what was known when acting at the current step (rewards come with ``record``).

        Without a teacher the behaviour policy is the student and the teacher fields stay zero.
        """
        t = self.step
        if t >= self.capacity:
            raise RuntimeError(f"rollout storage full ({self.capacity} steps per env)")
        self.obs[t] = obs
        self.actions[t] = actions
        self.values[t] = values
        self.logprobs[t] = logprobs
        self.masks[t] = masks
        if self.memory is not None:
            self.memory[t] = memory
        self.behaviour_logprobs[t] = logprobs if behaviour_logprobs is None else behaviour_logprobs
        # zeros where the teacher (or its critic) was not consulted, never a stale iteration's
        self.teacher_probs[t] = 0.0 if teacher_probs is None else teacher_probs
        self.teacher_values[t] = 0.0 if teacher_values is None else teacher_values

    def record(self, rewards: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor,
               bootstrap: torch.Tensor, next_obs: torch.Tensor | None = None) -> None:
        """Record the outcome of the step's actions and advance. ``next_obs``: the observation
        after the action (the final one where an episode ended), for the teacher critic."""
        t = self.step
        if next_obs is not None:
            self.next_obs[t] = next_obs
        self.rewards[t] = rewards
        self.terminated[t] = terminated
        self.truncated[t] = truncated
        self.bootstrap[t] = bootstrap
        self.step += 1

    def compute_returns(self, last_values: torch.Tensor, gamma: float, gae_lambda: float | None,
                        normalise: bool = True) -> None:
        """Discounted Monte-Carlo returns (``gae_lambda`` None) or GAE(lambda) advantages.

        Bootstraps with V(final obs) at time-limit cuts and with ``last_values`` (V of the next
        obs) for episodes still running when collection stopped; no bootstrap after termination.
        Advantages are returns - values, normalised over the whole batch (unless ``normalise``
        is False).
        """
        T = self.step
        next_ret = last_values.clone()  # return / value after the last stored step
        next_adv = torch.zeros_like(last_values)
        next_value = last_values.clone()
        for t in reversed(range(T)):
            ended = self.terminated[t] + self.truncated[t]
            cont = 1.0 - ended
            # value of the state after step t: 0 if terminated, V(final) if truncated
            after = cont * next_value + self.truncated[t] * self.bootstrap[t]
            if gae_lambda is None:
                after_ret = cont * next_ret + self.truncated[t] * self.bootstrap[t]
                self.returns[t] = self.rewards[t] + gamma * after_ret
                next_ret = self.returns[t]
            else:
                delta = self.rewards[t] + gamma * after - self.values[t]
                next_adv = delta + gamma * gae_lambda * cont * next_adv
                self.advantages[t] = next_adv
                self.returns[t] = next_adv + self.values[t]
            next_value = self.values[t]
        adv = self.returns[:T] - self.values[:T]
        self.advantages[:T] = (adv - adv.mean()) / (adv.std() + 1e-8) if normalise else adv

    def n_minibatches(self, batch_size: int, recurrence: int = 1) -> int:
        """How many minibatches one epoch of ``minibatches`` yields."""
        starts = -(-self.step * self.num_envs // recurrence)
        return min(starts, max(1, round(self.num_envs * self.step / batch_size)))

    def minibatches(self, batch_size: int, generator: torch.Generator, recurrence: int = 1
                    ) -> Iterator[Minibatch]:
        """One epoch: all T * N steps, shuffled, in round(T * N / batch_size) (at least 1)
        minibatches of nearly equal size (they differ by at most one sequence), rather than full
        batches and a small remainder that would take a full optimizer step of its own.

        With ``recurrence`` > 1 a minibatch is whole sequences of ``recurrence`` consecutive steps
        of one env, laid out step-major: rows k*S..(k+1)*S-1 are step k of the S sequences. T is a
        multiple of ``recurrence`` (collection ensures it).
        """
        T, N = self.step, self.num_envs
        starts = torch.arange(0, N * T, recurrence)
        # the permutation comes from a CPU generator on every device (the same minibatches)
        perm = starts[torch.randperm(len(starts), generator=generator)]
        n_batches = self.n_minibatches(batch_size, recurrence)
        yield from self._gather(torch.tensor_split(perm.to(self.device), n_batches), recurrence)

    def in_order(self, batch_size: int, recurrence: int = 1) -> Iterator[Minibatch]:
        """All T * N steps in storage order (env-major), in chunks of about ``batch_size`` steps
        (whole sequences with ``recurrence`` > 1, laid out as in ``minibatches``)."""
        T, N = self.step, self.num_envs
        starts = torch.arange(0, N * T, recurrence, device=self.device)
        yield from self._gather(torch.split(starts, max(1, batch_size // recurrence)), recurrence)

    def _gather(self, batches: tuple[torch.Tensor, ...], recurrence: int) -> Iterator[Minibatch]:
        """One Minibatch per tensor of sequence starts (flat env-major indices)."""
        T, N = self.step, self.num_envs
        # (T, N, ...) -> (N, T, ...) -> (N * T, ...): consecutive rows are consecutive steps
        flat = self.flat("obs", "actions", "logprobs", "values", "returns", "advantages", "masks",
                         "behaviour_logprobs", "teacher_probs", "teacher_values")
        memory = None if self.memory is None else \
            self.memory[:T].transpose(0, 1).reshape(N * T, -1)
        steps = torch.arange(recurrence, device=self.device)[:, None]
        for first in batches:
            idx = (first[None, :] + steps).reshape(-1)  # step-major
            yield Minibatch(
                obs=(self._encoded["obs"][idx].float() if "obs" in self._encoded
                     else flat["obs"][idx]), actions=flat["actions"][idx],
                logprobs=flat["logprobs"][idx], values=flat["values"][idx],
                returns=flat["returns"][idx], advantages=flat["advantages"][idx],
                memory=None if memory is None else memory[first],
                masks=flat["masks"][idx],
                behaviour_logprobs=flat["behaviour_logprobs"][idx],
                teacher_probs=flat["teacher_probs"][idx],
                teacher_values=flat["teacher_values"][idx],
            )

    def flat(self, *names: str) -> dict[str, torch.Tensor]:
        """The first ``step`` rows of the named fields as (N * T, ...), env-major."""
        T, N = self.step, self.num_envs
        # (T, N, ...) -> (N, T, ...) -> (N * T, ...): consecutive rows are consecutive steps
        return {name: getattr(self, name)[:T].transpose(0, 1).reshape(
            N * T, *getattr(self, name).shape[2:]) for name in names}
