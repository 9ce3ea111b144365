"""--conditioning film (models/film.py): the map summary, the FiLM layer, and the option end to end
(train, eval, resume)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from main import main
from models import ACModel
from models.film import QUERIES, QUERY_DIM, Film, FilmTrunk, MapSummary
from tests.conftest import TINY


def test_the_summary_is_an_attention_weighted_mean_of_every_cells_value():
    torch.manual_seed(0)
    summary = MapSummary(3)
    same = torch.randn(2, 3, 1, 1).expand(2, 3, 5, 4).contiguous()  # every cell alike
    values = summary.values(same[:, :, :1, :1]).flatten(1)  # (2, D): one cell's value vector
    assert torch.allclose(summary(same), values.repeat(1, QUERIES), atol=1e-6)
    # one distinct cell anywhere on the map moves the summary, wherever it is
    moved = []
    for x, y in ((0, 0), (4, 3)):
        odd = same.clone()
        odd[:, :, x, y] = 5.0
        moved.append(summary(odd))
    assert all(not torch.allclose(m, summary(same)) for m in moved)
    assert moved[0].shape == (2, QUERIES * QUERY_DIM)


def test_film_starts_as_the_identity_and_learns_to_condition():
    film = Film(QUERIES * QUERY_DIM, 8)
    x, z = torch.randn(3, 8, 4, 4), torch.randn(3, QUERIES * QUERY_DIM)
    assert torch.equal(film(x, z), x)
    # one gradient step on a target that depends on z makes the output depend on z
    opt = torch.optim.SGD(film.parameters(), lr=0.1)
    loss = ((film(x, z) - 2 * x) ** 2).mean()
    loss.backward()
    opt.step()
    assert not torch.allclose(film(x, z), film(x, torch.zeros_like(z)))


def test_the_trunk_passes_gradients_to_the_summary_once_film_is_live():
    torch.manual_seed(0)
    model = ACModel((10, 10, 4), encoding="egocentric", ego_radius=9, conditioning="film")
    assert isinstance(model.conv, FilmTrunk)
    obs = torch.randint(0, 6, (8, 10, 10, 4), dtype=torch.uint8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):  # the first step makes FiLM's zero-initialised layer non-zero
        opt.zero_grad()
        logits, values, _ = model(obs)
        (logits.logsumexp(1).mean() + values.pow(2).mean()).backward()
        opt.step()
    grad = model.conv.summary.queries.grad
    assert grad is not None and grad.abs().sum() > 0


@pytest.mark.slow
def test_conditioning_film_trains_evaluates_and_must_match_to_resume(logdir: Path, capsys):
    common = ["--task", "RandomColoredDoorKey", "--logdir", str(logdir), "--savedir", "film"]
    assert main(["train", *common, *TINY, "--n_itr", "2", "--conditioning", "film"]) == 0
    run = logdir / "ppo" / "randomcoloreddoorkey" / "film"
    state = torch.load(run / "acmodel.pt", weights_only=True)
    assert state["config"]["conditioning"] == "film"
    assert any(k.startswith("conv.summary.") for k in state["model"])
    assert main(["eval", "--task", "RandomColoredDoorKey", "--logdir", str(logdir), "--loaddir",
                 "film", "--savedir", "e", "--num_eval", "2", "--num_videos", "0"]) == 0
    capsys.readouterr()
    assert main(["train", *common, *TINY, "--n_itr", "3"]) == 2
    assert "give --conditioning film to resume it" in capsys.readouterr().err
    assert main(["train", *common, *TINY, "--n_itr", "3", "--conditioning", "film"]) == 0


def test_film_and_the_broadcast_pool_are_not_combined(capsys, tmp_path: Path):
    assert main(["train", "--task", "SimpleDoorKey", "--savedir", "x", "--logdir",
                 str(tmp_path), "--conditioning", "film", "--global_pool", "broadcast"]) == 2
    assert "--conditioning film and --global_pool broadcast" in capsys.readouterr().err
