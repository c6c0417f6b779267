"""How much does `fit` cost? One epoch of `fit` against the bare training loop (maintainers).

Lesson 07 trains its RNN with `rnn_course.fit`. Because the data are tensors in memory, an epoch
of `fit` should cost about what the bare loop costs: forward, loss, backward, clipping and step
over the same batches, with nothing else. This script times one epoch of each on fresh copies of
lesson 07's classifier (the same initial weights), on random images of MNIST's shape (the time
does not depend on the pixel values), and prints the ratio.

    python benchmarks/fit_cost.py                   # 55,000 images, as lesson 07 trains on
    python benchmarks/fit_cost.py --images 2000     # a quick look

Prints one line per measurement and a final `ratio` line; `--json` prints the numbers as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import torch
from torch import nn

from rnn_course import SequenceClassifier, fit, get_device


def bare_epoch(model, optimizer, loss_fn, images, labels, batch_size: int) -> float:
    """Seconds for one epoch of the plain loop: shuffled batches, forward, backward, clip, step."""
    model.train()
    start = time.perf_counter()
    for index in torch.randperm(len(images), device=images.device).split(batch_size):
        optimizer.zero_grad()
        loss = loss_fn(model(images[index]), labels[index])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    loss.item()  # wait for the device before reading the clock
    return time.perf_counter() - start


def measure(images: int = 55_000, batch_size: int = 128, seed: int = 0, device=None) -> dict:
    """Time one epoch of the bare loop and one of `fit` on the same model and data."""
    device = torch.device(device) if device is not None else get_device()
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.rand(images, 28, 28, generator=generator)
    targets = torch.randint(0, 10, (images,), generator=generator)
    torch.manual_seed(seed)
    model = SequenceClassifier(input_size=28, hidden_size=128, num_classes=10).to(device)
    twin, warm_up = copy.deepcopy(model), copy.deepcopy(model)
    loss_fn = nn.CrossEntropyLoss()
    # A few untimed batches first, so that neither measurement pays the start-up costs.
    bare_epoch(
        warm_up,
        torch.optim.Adam(warm_up.parameters(), lr=2e-3),
        loss_fn,
        inputs[: 8 * batch_size].to(device),
        targets[: 8 * batch_size].to(device),
        batch_size,
    )
    bare = bare_epoch(
        model,
        torch.optim.Adam(model.parameters(), lr=2e-3),
        loss_fn,
        inputs.to(device),
        targets.to(device),
        batch_size,
    )
    history = fit(
        twin,
        (inputs, targets),
        epochs=1,
        loss_fn=loss_fn,
        optimizer=torch.optim.Adam(twin.parameters(), lr=2e-3),
        batch_size=batch_size,
        clip_grad_norm=1.0,
        progress=False,
        verbose=False,
    )
    fitted = history["epoch_seconds"][0]
    return {
        "device": str(device),
        "images": images,
        "batch_size": batch_size,
        "bare_loop_seconds": bare,
        "fit_seconds": fitted,
        "fit_over_bare_loop": fitted / bare,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=55_000, help="images in the epoch")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the fastest)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.images < 1 or args.batch_size < 1:
        parser.error("--images and --batch-size must be positive")
    result = measure(args.images, args.batch_size, device=args.device)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"device {result['device']}, {args.images} images, batches of {args.batch_size}")
        print(f"one epoch, bare loop: {result['bare_loop_seconds']:.2f} s")
        print(f"one epoch, fit:       {result['fit_seconds']:.2f} s")
        print(f"ratio fit / bare loop: {result['fit_over_bare_loop']:.2f}")
    return result


if __name__ == "__main__":
    main()
