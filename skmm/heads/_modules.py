"""Torch modules behind the fusion heads.

One :class:`FusionModule` per head: every modality block gets its own projection to
``hidden_size``; an absent modality (indicator column == 1, or dropped by modality
dropout while training) has its projection replaced by a learned "missing" embedding;
a fuser (concat, gated or attention) turns the modality embeddings into one vector and a
small MLP maps it to the outputs.
"""

import torch
from torch import nn


def _mlp(in_features, hidden_size, n_layers, n_outputs, dropout):
    layers = []
    for _ in range(n_layers):
        layers += [nn.Linear(in_features, hidden_size), nn.GELU(), nn.Dropout(dropout)]
        in_features = hidden_size
    layers.append(nn.Linear(in_features, n_outputs))
    return nn.Sequential(*layers)


class _ConcatFuser(nn.Module):
    """mlp head: concatenate the modality embeddings, then an MLP."""

    def __init__(
        self, n_modalities, hidden_size, n_layers, n_heads, n_outputs, dropout, feedforward_size
    ):
        super().__init__()
        self.head = _mlp(n_modalities * hidden_size, hidden_size, n_layers, n_outputs, dropout)

    def forward(self, h, keep):
        return self.head(h.flatten(1)), None


class _GatedFuser(nn.Module):
    """gated head: softmax gates over modalities, computed from all of them, weight a sum."""

    def __init__(
        self, n_modalities, hidden_size, n_layers, n_heads, n_outputs, dropout, feedforward_size
    ):
        super().__init__()
        self.gate = nn.Linear(n_modalities * hidden_size, n_modalities)
        self.head = _mlp(hidden_size, hidden_size, n_layers, n_outputs, dropout)

    def forward(self, h, keep):
        # an absent modality gets no weight; its missing embedding still informs the gates
        logits = self.gate(h.flatten(1)).masked_fill(~_attendable(keep), float("-inf"))
        weights = torch.softmax(logits, dim=-1)
        fused = (weights.unsqueeze(-1) * h).sum(1)
        return self.head(fused), weights


class _AttentionFuser(nn.Module):
    """attention head: modality tokens, a small transformer, a learned-query attention pool."""

    def __init__(
        self, n_modalities, hidden_size, n_layers, n_heads, n_outputs, dropout, feedforward_size
    ):
        super().__init__()
        self.modality_embedding = nn.Parameter(torch.zeros(n_modalities, hidden_size))
        self.encoder = None
        if n_layers > 0:
            layer = nn.TransformerEncoderLayer(
                hidden_size,
                n_heads,
                dim_feedforward=feedforward_size or 2 * hidden_size,
                dropout=dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.query = nn.Parameter(torch.randn(1, 1, hidden_size) * 0.02)
        # no dropout on the pool: its weights are reported as modality weights
        self.pool = nn.MultiheadAttention(hidden_size, n_heads, batch_first=True)
        self.norm = nn.LayerNorm(hidden_size)
        self.head = nn.Linear(hidden_size, n_outputs)

    def forward(self, h, keep):
        tokens = h + self.modality_embedding
        if self.encoder is not None:
            tokens = self.encoder(tokens)
        query = self.query.expand(h.shape[0], -1, -1)
        # the pool reads present modalities only, so its weights say what the prediction used
        pooled, weights = self.pool(
            query, tokens, tokens, need_weights=True, key_padding_mask=~_attendable(keep)
        )
        return self.head(self.norm(pooled.squeeze(1))), weights.squeeze(1)


def _attendable(keep):
    """Modalities a pool may weight: the present ones, or all of them in a row with none."""
    return keep | ~keep.any(1, keepdim=True)


_FUSERS = {"mlp": _ConcatFuser, "gated": _GatedFuser, "attention": _AttentionFuser}


class FusionModule(nn.Module):
    """Per-modality projections, missing embeddings and a fuser, as one torch module.

    Parameters
    ----------
    blocks : list of (str, list of int, int or None)
        One ``(modality, feature_columns, missing_column)`` per modality; the columns
        index the input matrix, ``missing_column`` is its indicator column (1 = absent).
    n_outputs : int
        Number of logits (classes) or regression targets.
    head : {"mlp", "gated", "attention"}, default="mlp"
        How the modality embeddings are fused.
    hidden_size : int, default=128
        Width of every modality embedding and hidden layer.
    n_layers : int, default=1
        Hidden layers after fusion (mlp, gated) or transformer layers over the
        modality tokens (attention).
    n_heads : int, default=4
        Attention heads (attention head only); must divide ``hidden_size``.
    feedforward_size : int or None, default=None
        Width of the feed-forward block of each transformer layer (attention head
        only); None means ``2 * hidden_size``. The heads route it as
        ``module__feedforward_size``.
    dropout : float, default=0.1
        Dropout in the projections and hidden layers.
    modality_dropout : float, default=0.0
        While training, probability of marking a present modality absent for a
        sample (a sample always keeps at least one of its modalities).
    return_embeddings : bool, default=False
        While training, return ``(logits, embeddings, present)`` so the loss can add
        the cross-modal alignment term.
    """

    def __init__(
        self,
        blocks,
        n_outputs,
        head="mlp",
        hidden_size=128,
        n_layers=1,
        n_heads=4,
        dropout=0.1,
        modality_dropout=0.0,
        return_embeddings=False,
        feedforward_size=None,
    ):
        super().__init__()
        self.modalities = [name for name, _, _ in blocks]
        self.modality_dropout = float(modality_dropout)
        self.return_embeddings = bool(return_embeddings)
        self._slices = []
        for i, (_, columns, _) in enumerate(blocks):
            columns = [int(c) for c in columns]
            if columns == list(range(columns[0], columns[0] + len(columns))):
                # a contiguous block is a view, no gather
                self._slices.append(slice(columns[0], columns[0] + len(columns)))
            else:
                self._slices.append(None)
                self.register_buffer(f"columns_{i}", torch.tensor(columns), persistent=False)
        has_missing = [m for m, (_, _, miss) in enumerate(blocks) if miss is not None]
        self.register_buffer(
            "missing_modalities", torch.tensor(has_missing, dtype=torch.long), persistent=False
        )
        self.register_buffer(
            "missing_columns",
            torch.tensor([blocks[m][2] for m in has_missing], dtype=torch.long),
            persistent=False,
        )
        self.projections = nn.ModuleList(
            nn.Sequential(
                nn.Linear(len(columns), hidden_size),
                nn.LayerNorm(hidden_size),
                nn.GELU(),
                nn.Dropout(dropout),
            )
            for _, columns, _ in blocks
        )
        self.missing_embedding = nn.Parameter(torch.randn(len(blocks), hidden_size) * 0.02)
        self.fuser = _FUSERS[head](
            len(blocks), hidden_size, n_layers, n_heads, n_outputs, dropout, feedforward_size
        )

    def _block(self, X, i):
        sl = self._slices[i]
        return X[:, sl] if sl is not None else X.index_select(1, getattr(self, f"columns_{i}"))

    def embed(self, X):
        """Project every modality block.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)

        Returns
        -------
        embeddings : torch.Tensor of shape (n_samples, n_modalities, hidden_size)
            Projections of the blocks as given (absent blocks included).
        present : torch.BoolTensor of shape (n_samples, n_modalities)
            False where the modality's indicator column says absent.
        """
        z = torch.stack([proj(self._block(X, i)) for i, proj in enumerate(self.projections)], 1)
        present = torch.ones(z.shape[:2], dtype=torch.bool, device=X.device)
        if len(self.missing_modalities):
            present[:, self.missing_modalities] = X.index_select(1, self.missing_columns) < 0.5
        return z, present

    def _fuse(self, X):
        z, present = self.embed(X)
        keep = present
        if self.training and self.modality_dropout > 0 and z.shape[1] > 1:
            dropped = torch.rand(present.shape, device=X.device) < self.modality_dropout
            keep = present & ~dropped
            # a sample never loses all of its present modalities
            keep = torch.where(keep.any(1, keepdim=True), keep, present)
        h = torch.where(keep.unsqueeze(-1), z, self.missing_embedding.to(z.dtype))
        out, weights = self.fuser(h, keep)
        return out, weights, z, present

    def forward(self, X):
        out, _, z, present = self._fuse(X)
        if self.training and self.return_embeddings:
            return out, z, present
        return out

    def modality_weights(self, X):
        """Per-sample weight of each modality (gated and attention heads).

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)

        Returns
        -------
        weights : torch.Tensor of shape (n_samples, n_modalities)
            Gates or attention-pool weights; each row sums to 1.
        """
        _, weights, _, _ = self._fuse(X)
        if weights is None:
            raise ValueError(
                "The mlp head has no modality weights; use head='gated' or head='attention'."
            )
        return weights
