"""The trainer's generation loop against a tutorial-style DataLoader loop, its thread choice, its arithmetic
floor and its epoch time as the data grows. Every model is the digits-ban MLP (64-256-256-10) at batch 64."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from bench.flops import forward_flops, generation_flops, matmul_rate
from bench.measure import interleave, median_ratio, seconds
from core.evaluation import metrics as evaluate
from core.config import RunConfig
from core.data.splits import Dataset, load_dataset
from core.methods import ban
from core.presets import get_preset
from core.engine.context import GenerationContext, Tensors
from core.engine.devices import choose_threads, configure_cpu
from core.models.inference import freeze, predict_features


def digits(epochs: int, device: torch.device) -> tuple[RunConfig, Dataset, Tensors]:
    """The digits-ban preset's data and config with ``epochs`` epochs per generation."""
    config = get_preset("digits-ban").config({"train.epochs": epochs, "train.device": device.type})
    data = load_dataset(config.data, config.seed)
    return config, data, Tensors.from_dataset(data, device)


def fresh_model(config: RunConfig, data: Dataset, device: torch.device, threads: int | None = None) -> nn.Module:
    """The preset's model with seeded weights; on CPU, the trainer's CPU settings (configure_cpu) with ``threads``
    threads, by default the trainer's own choice (choose_threads), applied to either loop alike."""
    torch.manual_seed(config.seed)
    model = ban.build_model(config, data).to(device)
    if device.type == "cpu":
        configure_cpu(threads or choose_threads(model, config.train.batch_size))
    return model


def project_seconds(config: RunConfig, data: Dataset, tensors: Tensors, device: torch.device,
                    teacher: nn.Module | None = None, threads: int | None = None, fast_step: bool = True) -> float:
    """Seconds of ``ban.train_generation`` for a fresh model (generation 1 when a teacher is given);
    ``fast_step=False`` forces the autograd step instead of the hand-derived MLP step."""
    model = fresh_model(config, data, device, threads)
    ctx = GenerationContext(int(teacher is not None), config, data, tensors, device, lambda *_: None, lambda: False)
    return seconds(lambda: ban.train_generation(ctx, model, teacher, fast_step), device)


def trained_model(config: RunConfig, data: Dataset, tensors: Tensors, device: torch.device) -> nn.Module:
    """A generation-0 model trained by the project's loop, frozen (a teacher, or features to look at)."""
    model = fresh_model(config, data, device)
    ban.train_generation(GenerationContext(0, config, data, tensors, device, lambda *_: None, lambda: False),
                         model, None)
    return freeze(model)


def dataloader_seconds(config: RunConfig, data: Dataset, device: torch.device, fused: bool = False) -> float:
    """A tutorial-style loop over the same training: DataLoader(shuffle=True) batches moved to the device,
    Adam (torch's default kernel unless ``fused``), the same gradient clipping, per-step loss.item(),
    test accuracy after each epoch."""
    model = fresh_model(config, data, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.lr, fused=fused or None)
    train = TensorDataset(torch.from_numpy(data.x_train), torch.from_numpy(data.y_train))
    loader = DataLoader(train, batch_size=config.train.batch_size, shuffle=True)
    x_test, y_test = torch.from_numpy(data.x_test).to(device), torch.from_numpy(data.y_test).to(device)

    def train_all() -> None:
        for _ in range(config.train.epochs):
            model.train()
            running = 0.0
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                optimizer.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.train.grad_clip)
                optimizer.step()
                running += loss.item() * len(x)
            model.eval()
            with torch.no_grad():
                (model(x_test).argmax(1) == y_test).float().mean().item()

    return seconds(train_all, device)


def speedup(quick: bool, device: torch.device) -> dict[str, float]:
    """Generation-0 training (plain CE): the project's loop against the DataLoader loop, interleaved."""
    config, data, tensors = digits(5, device)  # short runs: the two sides of a round see nearly the same load
    times = interleave({
        "project": lambda: project_seconds(config, data, tensors, device),
        "project_autograd": lambda: project_seconds(config, data, tensors, device, fast_step=False),
        "dataloader": lambda: dataloader_seconds(config, data, device),
        "dataloader_fused": lambda: dataloader_seconds(config, data, device, fused=True),
    }, rounds=5 if quick else 15)
    per_epoch = lambda name: 1e3 * float(np.median(times[name])) / config.train.epochs  # noqa: E731
    return {
        "trainer_speedup_vs_dataloader": median_ratio(times["dataloader"], times["project"]),
        "trainer_speedup_vs_dataloader_fused_adam": median_ratio(times["dataloader_fused"], times["project"]),
        "trainer_fast_step_over_autograd": median_ratio(times["project_autograd"], times["project"]),
        "trainer_autograd_speedup_vs_dataloader": median_ratio(times["dataloader"], times["project_autograd"]),
        "trainer_epoch_ms": per_epoch("project"),
        "dataloader_epoch_ms": per_epoch("dataloader"),
    }


def threads(quick: bool) -> dict[str, float]:
    """2 threads against 1, interleaved: torch's intra-op threads in the project's training loop
    (choose_threads picks 1 for this model), and the BLAS threads of the evaluation's linear probe
    (the trainer's configure_cpu sets those to the same count)."""
    cpu = torch.device("cpu")
    config, data, tensors = digits(2 if quick else 10, cpu)
    model = trained_model(config, data, tensors, cpu)
    train_x, test_x = (predict_features(model, x).numpy() for x in (tensors.x_train, tensors.x_test))

    def probe(n: int) -> float:
        with threadpool_limits(limits=n):
            return seconds(lambda: evaluate.linear_probe_accuracy(train_x, data.y_train_clean, test_x, data.y_test),
                           cpu)

    rounds = 3 if quick else 7
    train = interleave({n: lambda n=n: project_seconds(config, data, tensors, cpu, threads=n) for n in (1, 2)}, rounds)
    blas = interleave({n: lambda n=n: probe(n) for n in (1, 2)}, rounds)
    return {"trainer_threads_chosen": choose_threads(model, config.train.batch_size),
            "trainer_2threads_over_1thread_time": median_ratio(train[2], train[1]),
            "probe_2blas_threads_over_1_time": median_ratio(blas[2], blas[1])}


def floor(quick: bool, device: torch.device) -> dict[str, float]:
    """Achieved training time of generations 0 and 1 over their FLOPs at the measured matmul rate, per round."""
    config, data, tensors = digits(5 if quick else 20, device)
    model = fresh_model(config, data, device)
    per_sample = forward_flops(model, tensors.x_train)
    n_train, n_test, epochs = len(data.x_train), len(data.x_test), config.train.epochs
    flops = generation_flops(per_sample, n_train, n_test, epochs, False) + \
        generation_flops(per_sample, n_train, n_test, epochs, True)
    teacher = trained_model(config, data, tensors, device)
    t = interleave({
        "rate": lambda: 1 / matmul_rate(device),  # seconds per FLOP, so the floor is a product
        "achieved": lambda: project_seconds(config, data, tensors, device) +
        project_seconds(config, data, tensors, device, teacher),
    }, rounds=3 if quick else 5)
    floors = [flops * s for s in t["rate"]]
    return {"floor_matmul_gflops": 1e-9 / float(np.median(t["rate"])), "trainer_floor_s": float(np.median(floors)),
            "trainer_achieved_s": float(np.median(t["achieved"])),
            "trainer_achieved_over_floor": median_ratio(t["achieved"], floors)}


def synthetic(n: int, seed: int = 0) -> Dataset:
    """n samples of 10 Gaussian clusters in 64 dimensions (digits' width), split 80/20."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = (rng.normal(size=(10, 64))[y] + rng.normal(size=(n, 64))).astype(np.float32)
    cut = int(0.8 * n)
    return Dataset(f"synthetic-{n}", x[:cut], y[:cut], x[cut:], y[cut:], y[:cut], np.array([], np.int64), 10)


def epoch_scaling(quick: bool, device: torch.device, sizes=(1_000, 10_000, 100_000)) -> dict[str, float]:
    """Seconds of one training epoch at each data size, and how the per-sample cost grows from smallest to largest."""
    config = get_preset("digits-ban").config({"train.epochs": 1, "train.device": device.type})
    sets = {n: synthetic(n) for n in sizes}
    tensors = {n: Tensors.from_dataset(d, device) for n, d in sets.items()}
    t = interleave({n: lambda n=n: project_seconds(config, sets[n], tensors[n], device) for n in sizes},
                   rounds=1 if quick else 3)
    out = {f"epoch_s_{_short(n)}": float(np.median(t[n])) for n in sizes}
    small, large = sizes[0], sizes[-1]
    out[f"epoch_per_sample_{_short(large)}_over_{_short(small)}"] = median_ratio(
        [a / large for a in t[large]], [b / small for b in t[small]])
    return out


def _short(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)

