"""A tiny Vision Transformer for image-shaped inputs given as flat rows (the 8×8 digits, spectrograms).

The image is cut into ``patch``×``patch`` squares; each is projected to ``dim`` numbers (the patch embedding), a
learned class token is put in front, learned position embeddings are added, and ``depth`` pre-norm blocks
(x + attention(norm(x)), then x + MLP(norm(x))) mix the tokens. The features are the class token after a final
layer norm. Attention is written out by hand rather than through a fused kernel so that the class token's
attention over the patches can be read back (``cls_attention``): the maps the Runs page shows.

Layer norm, not batch norm, normalises here, so ``model.batch_norm`` does not apply and is refused (see build).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.config import ModelConfig

MLP_RATIO = 2  # hidden width of each block's MLP, as a multiple of dim (tiny inputs; ViT papers use 4)


class Attention(nn.Module):
    """Multi-head self-attention that can also return its weights, (B, heads, tokens, tokens)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # 3 × (B, h, n, d/h)
        weights = F.softmax((q @ k.transpose(-2, -1)) * self.scale, dim=-1)  # (B, h, n, n), rows sum to 1
        mixed = (weights @ v).transpose(1, 2).reshape(b, n, d)
        out = self.out(mixed)
        return (out, weights) if return_weights else out


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, MLP_RATIO * dim), nn.GELU(), nn.Linear(MLP_RATIO * dim, dim))

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        attended, weights = self.attn(self.norm1(x), return_weights=True)
        x = x + attended
        x = x + self.mlp(self.norm2(x))
        return (x, weights) if return_weights else x


class ViT(nn.Module):
    def __init__(self, image_shape: tuple[int, int], n_classes: int, patch: int, dim: int, depth: int, heads: int):
        super().__init__()
        h, w = image_shape
        self.image_shape, self.patch = image_shape, patch
        self.grid = (h // patch, w // patch)  # patches per column and per row
        n_patches = self.grid[0] * self.grid[1]
        self.embed = nn.Linear(patch * patch, dim)  # the same as a conv with kernel = stride = patch
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, n_patches + 1, dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.feature_dim = dim
        self.head = nn.Linear(dim, n_classes)

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H·W) rows → (B, n_patches, patch²), patches in row-major order of the grid."""
        p, (gh, gw) = self.patch, self.grid
        images = x.view(x.shape[0], gh, p, gw, p)
        return images.permute(0, 1, 3, 2, 4).reshape(x.shape[0], gh * gw, p * p)

    def _tokens(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(self.patches(x))  # (B, N, dim)
        return torch.cat([self.cls_token.expand(len(x), -1, -1), tokens], dim=1) + self.pos  # (B, N + 1, dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        z = self._tokens(x)
        for block in self.blocks:
            z = block(z)
        return self.norm(z)[:, 0]  # (B, dim): the class token

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def cls_attention(self, x: torch.Tensor) -> torch.Tensor:
        """The last block's attention from the class token to each patch: (B, heads, gh, gw). Each head's weights
        over all tokens sum to 1; the share the class token gives itself is left out, so a map sums to ≤ 1."""
        z = self._tokens(x)
        for block in self.blocks[:-1]:
            z = block(z)
        _, weights = self.blocks[-1](z, return_weights=True)
        return weights[:, :, 0, 1:].reshape(len(x), -1, *self.grid)


def build(cfg: ModelConfig, in_dim: int, n_classes: int, image_shape: tuple[int, int] | None) -> ViT:
    if image_shape is None:
        raise ValueError("model.name=vit needs image-shaped data (digits, digits-shifted)")
    h, w = image_shape
    if h % cfg.patch or w % cfg.patch:
        raise ValueError(f"model.patch={cfg.patch}: must divide the image's sides ({h}×{w})")
    if cfg.dim % cfg.heads:
        raise ValueError(f"model.heads={cfg.heads}: must divide model.dim={cfg.dim}")
    if cfg.batch_norm:
        raise ValueError("model.batch_norm=true: the ViT normalises with layer norm; set model.batch_norm=false")
    return ViT(image_shape, n_classes, cfg.patch, cfg.dim, cfg.depth, cfg.heads)
