"""The PPO update (docs/method.md section 4.4, PPO phase): clipped ratio, clipped value loss."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from algos.schedules import IterationPlan
from algos.storage import Minibatch, RolloutStorage
from algos.teacher_critic import cross_entropy
from algos.twins import Twins, twin_weight
from models import ACModel
from utils.config import TrainConfig

LOSS_KEYS = ("Policy Loss", "Value Loss", "Entropy", "Approx KL", "Clip Frac", "Grad Norm",
             "Explained Variance", "Kickstart Loss", "Imitation Loss", "Value Align Loss",
             "Twin Loss", "Epochs")
EVAL_CHUNK = 1024  # steps per forward pass when re-evaluating the whole rollout (no gradients)


class PPO:
    """Owns the optimizer; ``update`` runs ``epochs`` passes of minibatch SGD on one rollout,
    as the iteration's plan says (learning rate, phase, kickstarting weight)."""

    def __init__(self, model: ACModel, cfg: TrainConfig) -> None:
        self.model = model
        self.cfg = cfg
        # fused: one kernel for all parameters, 5x faster than the default on CPU (bench measured)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, eps=cfg.adam_eps,
                                          fused=True)
        self.recurrence = cfg.recurrence if model.recurrent else 1

    def evaluate_minibatch(self, mb: Minibatch) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, values) of the current network on a minibatch, unrolling the LSTM if any."""
        if not self.model.recurrent:
            logits, values, _ = self.model(mb.obs)
            return logits, values
        seqs = mb.memory.shape[0]
        memory = mb.memory
        logits, values = [], []
        for k in range(self.recurrence):  # rows k*seqs..(k+1)*seqs-1 are step k of each sequence
            rows = slice(k * seqs, (k + 1) * seqs)
            memory = memory * mb.masks[rows, None]
            step_logits, step_values, memory = self.model(mb.obs[rows], memory)
            logits.append(step_logits)
            values.append(step_values)
        return torch.cat(logits), torch.cat(values)

    def loss(self, mb: Minibatch, plan: IterationPlan,
             twins: tuple[torch.Tensor, torch.Tensor] | None = None
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The minibatch loss of the plan's phase, and its statistics (tensors); ``twins``
        (encoded maps, the teacher's labels) add the twin loss."""
        loss, stats = self.phase_loss(mb, plan)
        weight = twin_weight(self.cfg, plan)
        if twins is not None and len(twins[0]) and weight > 0:
            twin_logits, _, _ = self.model(twins[0])
            twin_loss = cross_entropy(twins[1], twin_logits).mean()
            loss = loss + self.cfg.twin_coef * weight * twin_loss
            stats["Twin Loss"] = twin_loss.detach()
        return loss, stats

    def phase_loss(self, mb: Minibatch, plan: IterationPlan
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The minibatch loss of the plan's phase (imitation or PPO), and its statistics."""
        if plan.imitating:
            return self.imitation_loss(mb)
        cfg = self.cfg
        logits, values = self.evaluate_minibatch(mb)
        # no argument checks: they read the tensors back to the host, a sync per minibatch
        dist = Categorical(logits=logits, validate_args=False)
        logprobs = dist.log_prob(mb.actions)
        entropy = dist.entropy().mean()
        # the ratio against the policy that chose the action (the guided mixture in IHAC), or
        # against the student's own log-prob as the original did (--ratio_wrt student); decoupled
        # PPO clips against the student at collection and weights each sample by the truncated
        # importance weight of that student against the behaviour policy (held fixed)
        old = mb.behaviour_logprobs if cfg.ratio_wrt == "behaviour" else mb.logprobs
        log_ratio = logprobs - old
        ratio = log_ratio.exp()
        surr1 = ratio * mb.advantages
        surr2 = ratio.clamp(1 - cfg.clip, 1 + cfg.clip) * mb.advantages
        surrogate = torch.min(surr1, surr2)
        if cfg.ratio_wrt == "decoupled":
            surrogate = surrogate * (mb.logprobs - mb.behaviour_logprobs).exp().clamp(
                max=cfg.is_clip)
        policy_loss = -surrogate.mean()
        values_clipped = mb.values + (values - mb.values).clamp(-cfg.clip, cfg.clip)
        value_loss = torch.max((values - mb.returns) ** 2,
                               (values_clipped - mb.returns) ** 2).mean()
        loss = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy
        kickstart = cross_entropy(mb.teacher_probs, logits).mean() if plan.ks else None
        if kickstart is not None:
            loss = loss + plan.ks * kickstart
        with torch.no_grad():  # statistics stay tensors: update() reads them once per iteration
            stats = {"Policy Loss": policy_loss.detach(), "Value Loss": value_loss.detach(),
                     "Entropy": entropy.detach()}
            if kickstart is not None:
                stats["Kickstart Loss"] = kickstart.detach()
            # for --target_kl: the student's change so far, against its policy at collection
            student_log_ratio = logprobs - mb.logprobs
            stats["_kl"] = ((student_log_ratio.exp() - 1) - student_log_ratio).mean()
        return loss, stats

    def imitation_loss(self, mb: Minibatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """coef * (CE(pi_T, pi_S) + value_align_coef * MSE(V_S, V_T)), V_T fixed."""
        cfg = self.cfg
        logits, values = self.evaluate_minibatch(mb)
        ce = cross_entropy(mb.teacher_probs, logits).mean()
        align = ((values - mb.teacher_values) ** 2).mean()
        loss = cfg.imitation_coef * (ce + cfg.value_align_coef * align)
        return loss, {"Imitation Loss": ce.detach(), "Value Align Loss": align.detach()}

    @torch.no_grad()
    def _encode_twins(self, twins: Twins) -> torch.Tensor:
        """The twins' network inputs, encoded once for every epoch (uint8, as the rollout's)."""
        return torch.cat([self.model.encode(chunk).to(torch.uint8)
                          for chunk in twins.obs.split(EVAL_CHUNK)])

    @torch.no_grad()
    def policy_change(self, storage: RolloutStorage) -> dict[str, float]:
        """How far the update moved the student, over the whole rollout: the mean of
        (r - 1) - log r (an unbiased, non-negative estimate of KL(pi_old || pi_new)) and the
        fraction of steps with |r - 1| > clip, r = pi_new(a|s) / pi_student_at_collection(a|s)
        (the student's own log-prob, also where guided sampling chose the action)."""
        kl = torch.zeros((), dtype=torch.float64, device=storage.device)
        clipped, n = torch.zeros_like(kl), 0
        for mb in storage.in_order(EVAL_CHUNK, self.recurrence):
            logits, _ = self.evaluate_minibatch(mb)
            log_ratio = (torch.log_softmax(logits, -1).gather(1, mb.actions[:, None]).squeeze(1)
                         - mb.logprobs).double()
            ratio = log_ratio.exp()
            kl += ((ratio - 1) - log_ratio).sum()
            clipped += ((ratio - 1).abs() > self.cfg.clip).sum()
            n += len(ratio)
        return {"Approx KL": kl.item() / n, "Clip Frac": clipped.item() / n}

    def update(self, storage: RolloutStorage, generator: torch.Generator, plan: IterationPlan,
               twins: Twins | None = None) -> tuple[dict[str, float], int]:
        """PPO epochs over the rollout at the plan's learning rate: (statistics, gradient
        steps). The losses, entropy and gradient norm are means over minibatches; Approx KL and
        Clip Frac measure the whole update (``policy_change``, PPO phase only). Each epoch
        spreads the iteration's twins (if any) over its minibatches, shuffled."""
        for group in self.optimizer.param_groups:
            group["lr"] = plan.lr
        totals: dict[str, list[torch.Tensor]] = {}
        steps = epochs = 0
        target_kl = self.cfg.target_kl if not plan.imitating else 0.0
        twin_inputs = self._encode_twins(twins) if twins is not None and len(twins) else None
        n_batches = storage.n_minibatches(self.cfg.batch_size, self.recurrence)
        for _ in range(self.cfg.epochs):
            epoch_kl = []
            epochs += 1
            twin_chunks = [None] * n_batches
            if twin_inputs is not None:
                order = torch.randperm(len(twins), generator=generator).to(twins.probs.device)
                twin_chunks = [(twin_inputs[i].float(), twins.probs[i])
                               for i in torch.tensor_split(order, n_batches)]
            # the hot path: no value comes back to the host inside this loop (no .item())
            for mb, twin_mb in zip(storage.minibatches(self.cfg.batch_size, generator,
                                                       self.recurrence), twin_chunks, strict=True):
                loss, stats = self.loss(mb, plan, twin_mb)
                if "_kl" in stats:
                    epoch_kl.append(stats.pop("_kl"))
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                stats["Grad Norm"] = nn.utils.clip_grad_norm_(self.model.parameters(),
                                                              self.cfg.max_grad_norm)
                self.optimizer.step()
                steps += 1
                for k, v in stats.items():
                    totals.setdefault(k, []).append(v)
            if target_kl and epoch_kl and np.mean(torch.stack(epoch_kl).tolist()) > target_kl:
                break  # the policy moved far enough for this batch (CleanRL's early stop)
        # one transfer per statistic and iteration
        out = {k: float(np.mean(torch.stack(v).tolist())) for k, v in totals.items()}
        out["Epochs"] = float(epochs)
        if not plan.imitating:
            out.update(self.policy_change(storage))
        T = storage.step
        returns, values = storage.returns[:T], storage.values[:T]
        var = returns.var().item()
        residual = (returns - values).var().item()
        out["Explained Variance"] = float("nan") if var == 0 else 1 - residual / var
        return out, steps
