"""Training algorithms: the PPO update, rollout storage, the training loop, evaluation."""
