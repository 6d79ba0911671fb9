"""PretrainedFeatures.transform against a plain timm forward pass, and its throughput by batch size.

The reference is what one writes by hand with timm on the same uint8 batches: scale to
[0, 1], resize when needed, normalise, ``model(x)`` of the headless model
(``num_classes=0``: timm's own average-pooled pre-logits) under ``torch.inference_mode``.
A second reference times the forward pass alone, on tensors prepared beforehand.
Both use the same weights (the packaged EfficientNet-Lite0 by default), batch size and
threads. Times are medians of ``--repeats`` interleaved runs after one warm-up.

    python benchmarks/bench_pretrained.py [--backbone NAME] [--repeats 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import timm
import torch
from torch.nn import functional as F

from skvision.neural._pretrained import PretrainedFeatures


def interleaved_medians(functions, repeats):
    """Median seconds of each function; runs alternate so that a shared machine's load hits all alike."""
    for fn in functions:
        fn()  # warm-up: first-call allocations, kernel selection
    times = [[] for _ in functions]
    for _ in range(repeats):
        for fn, slot in zip(functions, times):
            start = time.perf_counter()
            fn()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            slot.append(time.perf_counter() - start)
    return [statistics.median(slot) for slot in times]


def plain_timm(model, config, size, device):
    mean = torch.tensor(config.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(config.std, device=device).view(1, 3, 1, 1)

    def prepare(batch):
        x = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float() / 255.0
        if x.shape[-2:] != size:
            x = F.interpolate(x, size=size, mode=config.interpolation, antialias=True, align_corners=False)
        return (x - mean) / std

    def embed(images, batch_size):
        with torch.inference_mode():
            return np.concatenate(
                [
                    model(prepare(images[i : i + batch_size])).cpu().numpy()
                    for i in range(0, len(images), batch_size)
                ]
            )

    def forward_only(tensors):
        with torch.inference_mode():
            for x in tensors:
                model(x)

    return prepare, embed, forward_only


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="tf_efficientnet_lite0")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-sizes", default="1,32,256")
    parser.add_argument("--image-sizes", default="224,32", help="sides of the square input images")
    args = parser.parse_args()

    device = torch.device(args.device)
    extractor = PretrainedFeatures(args.backbone, batch_size=32, device=args.device)
    rng = np.random.default_rng(0)
    extractor.fit(rng.integers(0, 256, (1, 32, 32, 3), dtype=np.uint8))
    headless = timm.create_model(extractor.module_.default_cfg["architecture"], num_classes=0)
    headless.load_state_dict(
        {
            k: v
            for k, v in extractor.module_.state_dict().items()
            if not k.startswith(extractor.module_.default_cfg["classifier"])
        }
    )
    headless = headless.eval().to(device)
    size = extractor.input_size_

    print(f"# {args.backbone} ({extractor.weights_}), input {size[0]}x{size[1]}, device {device}")
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, timm {timm.__version__}, load average {os.getloadavg()[0]:.1f}; "
        f"medians of {args.repeats} runs"
    )
    print()
    print(
        "| images | batch | n images | transform s | plain timm s | ratio "
        "| forward only s | ratio | images/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for side in (int(s) for s in args.image_sizes.split(",")):
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            n_images = max(batch_size, 16) if batch_size < 256 else batch_size
            images = rng.integers(0, 256, (n_images, side, side, 3), dtype=np.uint8)
            extractor.set_params(batch_size=batch_size)
            prepare, embed, forward_only = plain_timm(headless, extractor.config_, size, device)
            np.testing.assert_allclose(
                extractor.transform(images[:2]), embed(images[:2], batch_size), rtol=1e-4, atol=1e-4
            )
            tensors = [prepare(images[i : i + batch_size]) for i in range(0, n_images, batch_size)]
            t_ours, t_timm, t_forward = interleaved_medians(
                [
                    lambda: extractor.transform(images),
                    lambda: embed(images, batch_size),
                    lambda: forward_only(tensors),
                ],
                args.repeats,
            )
            print(
                f"| {side}x{side} | {batch_size} | {n_images} | {t_ours:.3f} | {t_timm:.3f} "
                f"| {t_ours / t_timm:.2f} "
                f"| {t_forward:.3f} | {t_ours / t_forward:.2f} | {n_images / t_ours:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
