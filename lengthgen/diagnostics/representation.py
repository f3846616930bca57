"""Effective rank of representations: RankMe and LiDAR.

>>> import numpy as np
>>> round(rankme(np.eye(4)), 3)  # four equal singular values
4.0
"""

from __future__ import annotations

import numpy as np

EPS = 1e-7


def effective_rank(values: np.ndarray) -> float:
    """exp(entropy) of the normalised non-negative spectrum ``values``."""
    values = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
    total = values.sum()
    if total <= 1e-12:  # a zero spectrum (up to rounding) has no directions
        return 0.0
    p = values / total + EPS
    return float(np.exp(-(p * np.log(p)).sum()))


def rankme(embeddings: np.ndarray) -> float:
    """RankMe (Garrido et al., 2023): effective rank of the singular values of
    an [n, d] batch of embeddings."""
    return effective_rank(np.linalg.svd(np.asarray(embeddings, dtype=np.float64), compute_uv=False))


def lidar(embeddings: np.ndarray, labels: np.ndarray, delta: float = 1e-4) -> float:
    """LiDAR (Thilak et al., 2023): effective rank of the eigenvalues of
    Σ_w^{-1/2} Σ_b Σ_w^{-1/2}, with Σ_b the between-class and Σ_w the
    within-class covariance (+ δI) of embeddings grouped by ``labels``.
    Classes with a single sample add nothing to Σ_w; 0 with fewer than two classes."""
    z = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) < 2:
        return 0.0
    mu = z.mean(axis=0)
    d = z.shape[1]
    between = np.zeros((d, d))
    within = np.zeros((d, d))
    for c in classes:
        zc = z[labels == c]
        mc = zc.mean(axis=0)
        between += np.outer(mc - mu, mc - mu)
        centered = zc - mc
        within += centered.T @ centered / max(1, len(zc))
    between /= len(classes)
    within = within / len(classes) + delta * np.eye(d)
    evals, evecs = np.linalg.eigh(within)
    inv_sqrt = evecs @ np.diag(1.0 / np.sqrt(np.clip(evals, delta, None))) @ evecs.T
    lda = inv_sqrt @ between @ inv_sqrt
    return effective_rank(np.linalg.eigvalsh((lda + lda.T) / 2))


def representation_ranks(model, task, length: int, n: int, rng: np.random.Generator, device) -> dict[str, float]:
    """RankMe and LiDAR of the final hidden states at target positions of
    ``n`` teacher-forced examples; LiDAR's classes are the target tokens."""
    import torch

    from lengthgen.evaluation.evaluate import chunk_size
    from lengthgen.training.data import to_lm_batch

    batch = task.sample(rng, n, length)
    lm = to_lm_batch(batch)
    positions = model.sample_positions(rng, *lm.tokens.shape, batch.input_lengths + batch.target_lengths + 2)
    was_training = model.training
    model.eval()
    hidden = []
    step = chunk_size(model, lm.tokens.shape[1], n)
    with torch.no_grad():
        for start in range(0, n, step):
            tokens = torch.from_numpy(lm.tokens[start : start + step]).to(device)
            pos = None if positions is None else positions[start : start + step]
            hidden.append(model(tokens, pos).hidden.float().cpu().numpy())
    model.train(was_training)
    z = np.concatenate(hidden)[lm.loss_mask]
    labels = lm.labels[lm.loss_mask]
    return {"rankme": round(rankme(z), 4), "lidar": round(lidar(z, labels), 4)}
