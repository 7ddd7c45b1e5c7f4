"""Loss of the fusion heads: weighted task loss plus an optional cross-modal alignment term."""

import torch
import torch.nn.functional as F
from torch import nn


def cosine_alignment(embeddings, present):
    """Mean cosine distance between the embeddings of every present modality pair.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n_samples, n_modalities, dim)
    present : torch.BoolTensor of shape (n_samples, n_modalities)

    Returns
    -------
    loss : torch.Tensor
        A scalar in [0, 2]; 0 when no sample has two present modalities.
    """
    n_modalities = embeddings.shape[1]
    z = F.normalize(embeddings, dim=-1)
    similarity = z @ z.transpose(1, 2)
    upper = torch.ones(n_modalities, n_modalities, dtype=torch.bool, device=z.device).triu(1)
    pairs = present.unsqueeze(2) & present.unsqueeze(1) & upper
    if not bool(pairs.any()):
        return embeddings.sum() * 0.0
    return (1.0 - similarity[pairs]).mean()


def infonce_alignment(embeddings, present, temperature=0.1):
    """Symmetric InfoNCE between modality pairs: a sample's other modality is its positive.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n_samples, n_modalities, dim)
    present : torch.BoolTensor of shape (n_samples, n_modalities)
    temperature : float, default=0.1

    Returns
    -------
    loss : torch.Tensor
        Mean over modality pairs with at least two samples where both are present.
    """
    n_modalities = embeddings.shape[1]
    z = F.normalize(embeddings, dim=-1)
    losses = []
    for a in range(n_modalities):
        for b in range(a + 1, n_modalities):
            both = present[:, a] & present[:, b]
            if int(both.sum()) < 2:
                continue
            logits = z[both, a] @ z[both, b].T / temperature
            target = torch.arange(logits.shape[0], device=logits.device)
            losses.append((F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2)
    if not losses:
        return embeddings.sum() * 0.0
    return torch.stack(losses).mean()


class FusionLoss(nn.Module):
    """Per-sample task loss, weighted by ``sample_weight``, plus alignment while training.

    Parameters
    ----------
    task : {"classification", "regression"}
        Cross-entropy on logits, or squared error averaged over the targets.
    alignment : {"cosine", "infonce"}, default="cosine"
        Cross-modal alignment term, used when the module returns embeddings.
    alignment_weight : float, default=0.0
        Weight of the alignment term; 0 turns it off.
    temperature : float, default=0.1
        InfoNCE temperature.
    """

    def __init__(self, task, alignment="cosine", alignment_weight=0.0, temperature=0.1):
        super().__init__()
        self.task = task
        self.alignment = alignment
        self.alignment_weight = alignment_weight
        self.temperature = temperature

    def forward(self, y_pred, y_true, sample_weight=None):
        embeddings = None
        if isinstance(y_pred, (tuple, list)):
            y_pred, embeddings, present = y_pred
        if self.task == "classification":
            per_sample = F.cross_entropy(y_pred, y_true.long(), reduction="none")
        else:
            per_sample = F.mse_loss(y_pred, y_true.to(y_pred.dtype), reduction="none").mean(1)
        if sample_weight is not None:
            # weights are normalised to mean 1 over the training set, so this stays a mean
            per_sample = per_sample * sample_weight.to(per_sample.dtype)
        loss = per_sample.mean()
        if embeddings is not None and self.alignment_weight > 0:
            if self.alignment == "infonce":
                align = infonce_alignment(embeddings, present, self.temperature)
            else:
                align = cosine_alignment(embeddings, present)
            loss = loss + self.alignment_weight * align
        return loss
