"""EfficientNet-Lite0's torch modules (imported only when the model is built)."""

import math

from torch import nn
from torch.nn import functional as F

# (repeats, kernel, stride, expand ratio, in, out) of EfficientNet-B0 / Lite0.
_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_BN_EPS = 1e-3  # TF's default; torch's 1e-5 shifts every activation


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "same" padding (the extra pixel goes bottom/right)."""

    def __init__(self, cin, cout, kernel, stride=1, padding=None, groups=1, bias=False):
        # nn.Conv2d's signature, so code that rebuilds a layer from its type (peft's LoRA
        # adapters) can; padding None is "same". Stride 1 with an odd kernel is symmetric:
        # let cudnn/mkldnn pad.
        k = kernel if isinstance(kernel, int) else kernel[0]
        s = stride if isinstance(stride, int) else stride[0]
        if padding is None:
            padding = k // 2 if s == 1 else 0
        super().__init__(cin, cout, kernel, stride, padding, groups=groups, bias=bias)

    def forward(self, x):
        if self.stride[0] > 1:
            k, s = self.kernel_size[0], self.stride[0]
            h, w = x.shape[-2:]
            ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
            pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
            x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        return super().forward(x)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-excite."""

    def __init__(self, cin, cout, kernel, stride, expand):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv2d(cin, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=_BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=_BN_EPS)
        self._project_conv = SameConv2d(mid, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=_BN_EPS)
        self.expand = expand != 1
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        # drop-connect is a training-time regulariser: identity at inference
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 whose ``state_dict`` keys match the shipped weights.

    ``forward(x)`` returns the 1000 ImageNet logits; ``features(x)`` the
    1280-d globally average-pooled features before the classifier;
    ``features_and_logits(x)`` both from one pass.
    """

    def __init__(self, n_classes=1000):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(32, eps=_BN_EPS)
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in _STAGES:
            for i in range(repeats):
                blocks.append(
                    MBConv(cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand)
                )
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, eps=_BN_EPS)
        self._fc = nn.Linear(1280, n_classes)

    def features(self, x):
        """Pooled 1280-d features of a normalised ``(N, 3, H, W)`` batch."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def features_and_logits(self, x):
        """``(features (N, 1280), logits (N, 1000))`` from one pass."""
        feats = self.features(x)
        return feats, self._fc(feats)

    def forward(self, x):
        """ImageNet logits of a normalised ``(N, 3, H, W)`` batch."""
        return self._fc(self.features(x))
